"""End to end: real Celery workers on the `stems` queue, Redis and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import CreditAccount, Transfer
from stems.models import StemSeparationJob
from stems.results import stem_key
from stems.services import stem_separation_jobs_sweep
from tests.stems.conftest import backing_media, give_credits
from tests.support.workers import Worker, wait_for, worker_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEARTBEAT_STALE_SECONDS = 3
NAMES = ("vocals", "drums", "bass", "other")


@pytest.fixture
def start_worker(postgres_url: str, redis_url: str, tmp_path: Path, settings: Any) -> Iterator[Any]:
    # Only this suite's Redis database: a leftover task from an earlier run must not linger.
    redis.Redis.from_url(redis_url).flushdb()
    settings.ANALYSIS_HEARTBEAT_STALE_SECONDS = HEARTBEAT_STALE_SECONDS
    workers: list[Worker] = []

    def start(name: str) -> Worker:
        worker = worker_start(
            name=name,
            queue_name="stems",
            also_queues=["celery"],
            pool="prefork",
            log_dir=tmp_path,
            database=True,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            ANALYSIS_HEARTBEAT_SECONDS="0.5",
            ANALYSIS_HEARTBEAT_STALE_SECONDS=str(HEARTBEAT_STALE_SECONDS),
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    redis.Redis.from_url(redis_url).flushdb()


def _start(client: APIClient, media_id: str) -> str:
    response = client.post("/api/v1/stems/", {"media": media_id}, format="json")
    assert response.status_code == 202, response.content
    job_id: str = response.json()["id"]
    return job_id


def _job(job_id: str) -> StemSeparationJob:
    return StemSeparationJob.objects.get(public_id=job_id)


def test_a_worker_on_the_stems_queue_separates_and_charges_once(
    start_worker: Any, api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)
    media = backing_media(user, seconds=8.0)
    start_worker("solo")
    job_id = _start(api_client, str(media.public_id))
    wait_for(lambda: _job(job_id).is_finished, timeout=180, what="the separation to end")
    job = _job(job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message)
    assert all(default_storage.exists(stem_key(job.pk, name)) for name in NAMES)
    assert Transfer.objects.filter(kind="capture", job_ref=job.job_ref).count() == 1
    assert CreditAccount.objects.get(user=user).available == 7


def test_a_worker_killed_mid_job_leaves_no_stranded_credits_or_stems(
    start_worker: Any, api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)
    media = backing_media(user, seconds=100.0)
    worker = start_worker("doomed")
    job_id = _start(api_client, str(media.public_id))
    assert CreditAccount.objects.get(user=user).available == 4
    wait_for(
        lambda: _job(job_id).stage == "separating", timeout=120, what="the separation to start"
    )
    worker.kill()
    assert _job(job_id).status == "running"

    # The periodic sweep, run here instead of waiting for beat, once the heartbeat is stale.
    wait_for(
        lambda: stem_separation_jobs_sweep()["crashed"] == 1,
        timeout=HEARTBEAT_STALE_SECONDS + 10,
        what="the sweep to fail the orphaned job",
    )
    job = _job(job_id)
    assert (job.status, job.error_code) == ("failed", "engine_crash")
    assert job.stems is None
    assert job.files_deleted_at is not None
    assert not any(default_storage.exists(stem_key(job.pk, name)) for name in NAMES)
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10
