"""The restore drill: back up a populated instance, destroy it, restore it into a fresh one.

On PostgreSQL with local storage and with an S3 bucket (SeaweedFS): the database is dropped and
created empty again under the same name, the stored files are deleted and a new, empty folder
or bucket configured; scripts/restore then loads the backup, and every row count, every stored
file, every result and the ledger are checked.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.config import Config
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from analysis.models import AnalysisJob
from analysis.selectors import analysis_arrays_gzip, analysis_audio_analysis_get
from analysis.services import analysis_job_create
from billing.selectors import ledger_reconcile
from billing.services import credits_grant, credits_refund
from media.models import MediaFile
from monitoring.models import Alert, AlertRule
from phonoglyph.backup import row_counts, storage_names
from phonoglyph.celery import app as celery_app
from tests.analysis.factories import MediaFileFactory
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _populate() -> None:
    users = [UserFactory.create() for _ in range(3)]
    for index, user in enumerate(users):
        credits_grant(user=user, amount=100 + index, reason="drill")
        MediaFileFactory.create(owner=user)
    # Celery runs eagerly here: each job runs when its creating transaction commits.
    job = analysis_job_create(
        user=users[0],
        media_public_id=MediaFileFactory.create(owner=users[0]).public_id,
        features=None,
    )
    credits_refund(job_ref=f"analysis:{job.pk}", feature="analysis", reason="drill", amount=1)
    analysis_job_create(
        user=users[1],
        media_public_id=MediaFile.objects.filter(owner=users[1]).get().public_id,
        features=None,
    )
    rule = AlertRule.objects.create(
        name="drill", metric="queue_depth", comparison="gt", threshold=1, severity="high"
    )
    now = timezone.now()
    Alert.objects.create(
        rule=rule,
        fingerprint="drill",
        service="worker",
        severity="high",
        state="firing",
        value=5,
        summary="drill",
        pending_since=now,
        fired_at=now,
        last_seen=now,
    )


def _results() -> dict[int, tuple[Any, ...]]:
    cache.clear()
    results: dict[int, tuple[Any, ...]] = {}
    for job in AnalysisJob.objects.order_by("pk"):
        stored: tuple[Any, ...] = ()
        if job.status == AnalysisJob.Status.SUCCEEDED:
            stored = (
                hashlib.sha256(analysis_arrays_gzip(job=job)).hexdigest(),
                analysis_audio_analysis_get(job=job),
            )
        results[job.pk] = (job.status, job.engine_version, job.result, *stored)
    return results


def _files() -> dict[str, str]:
    checksums = {}
    for name in storage_names(default_storage):
        with default_storage.open(name, "rb") as handle:
            checksums[name] = hashlib.sha256(handle.read()).hexdigest()
    return checksums


def _storage_env(settings: Any) -> dict[str, str]:
    """The storage settings of this test, as the environment of a script run on them."""
    if not settings.AWS_STORAGE_BUCKET_NAME:
        return {"MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    return {
        "AWS_STORAGE_BUCKET_NAME": settings.AWS_STORAGE_BUCKET_NAME,
        "AWS_S3_ENDPOINT_URL": settings.AWS_S3_ENDPOINT_URL,
        "AWS_ACCESS_KEY_ID": settings.AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": settings.AWS_SECRET_ACCESS_KEY,
        "AWS_S3_REGION_NAME": settings.AWS_S3_REGION_NAME,
        "AWS_S3_ADDRESSING_STYLE": "path",
    }


def _script(name: str, folder: Path, database: str, settings: Any) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database)
    env.update(_storage_env(settings))
    result = subprocess.run(
        [str(REPO / "scripts" / name), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _recreate_empty(postgres_url: str, name: str) -> None:
    connections.close_all()
    with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture
def eager_celery() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> str:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return str(request.param)


def _destroy_files_and_use_fresh_storage(settings: Any, tmp_path: Path) -> None:
    if not settings.AWS_STORAGE_BUCKET_NAME:
        shutil.rmtree(settings.MEDIA_ROOT)
        settings.MEDIA_ROOT = str(tmp_path / "restored-media")
        return
    client = boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        region_name=settings.AWS_S3_REGION_NAME,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    for name in storage_names(default_storage):
        client.delete_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=name)
    fresh = f"restored-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=fresh)
    settings.AWS_STORAGE_BUCKET_NAME = fresh
    # The storage object read the bucket name when it was made: make a new one.
    settings.STORAGES = {**settings.STORAGES}


def test_a_backup_restores_into_a_fresh_database_and_storage(
    postgres_url: str, settings: Any, storage: str, tmp_path: Path, eager_celery: None
) -> None:
    _populate()
    rows = row_counts()
    files = _files()
    results = _results()
    assert rows["accounts.User"] == 3
    assert rows["monitoring.Alert"] == 1
    assert rows["billing.Transfer"] > 0
    assert len(files) >= 6

    name = connection.settings_dict["NAME"]
    database = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    out = _script("backup", tmp_path / "backup", database, settings)
    assert "database:" in out

    _recreate_empty(postgres_url, name)
    _destroy_files_and_use_fresh_storage(settings, tmp_path)
    assert _files() == {}
    out = _script("restore", tmp_path / "backup", database, settings)
    assert "verify: OK" in out

    assert row_counts() == rows
    assert _files() == files
    assert _results() == results
    report = ledger_reconcile()
    assert report.ok, report
    out_buffer = io.StringIO()
    call_command("reconcile_credits", stdout=out_buffer)
    assert "OK: no drift." in out_buffer.getvalue()
