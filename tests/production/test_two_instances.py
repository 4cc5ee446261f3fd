"""Two of everything: two web processes and two workers sharing PostgreSQL, Redis and S3.

Each web process is its own gunicorn master (the production command, production settings);
each worker its own Celery process. A file uploaded through one web process is downloaded and
analysed through the other, a session opened on one is valid on the other, failed log-ins on
both count against one limit, and every analysis runs exactly once across the two workers.
About a minute; every wait is bounded (process start-up 30 s and 60 s, the analyses 180 s).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from analysis.models import AnalysisJob
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import write_wav
from tests.support.s3 import S3Server
from tests.support.web_processes import gunicorn
from tests.support.workers import Worker, shared_database_url, wait_for, worker_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "two-instances-Password-1"
JOBS = 3


@pytest.fixture
def deployment(
    postgres_url: str, redis_url: str, s3_server: S3Server, tmp_path: Path
) -> Iterator[tuple[str, str, list[Worker]]]:
    """Two gunicorn masters and two workers on one database, one Redis and one bucket."""
    shared = {
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "AWS_STORAGE_BUCKET_NAME": s3_server.bucket,
        "AWS_S3_ENDPOINT_URL": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_S3_REGION_NAME": s3_server.region,
        "AWS_S3_ADDRESSING_STYLE": "path",
        "PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE": "5",
    }
    web_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "DEBUG": "false",
        "SECRET_KEY": "two-instances-" + "k3y-" * 12,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SENTRY_DSN": "",
        "POSTHOG_API_KEY": "",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        **shared,
    }
    with ExitStack() as stack:
        urls = [
            stack.enter_context(gunicorn(web_env, tmp_path / f"gunicorn-{index}.log"))
            for index in range(2)
        ]
        workers = []
        for index in range(2):
            worker = worker_start(
                queue_name="analysis",
                also_queues=("celery",),
                name=f"two-instances-{index}",
                log_dir=tmp_path,
                broker=redis_url,
                database=True,
                **shared,
            )
            stack.callback(worker.stop)
            workers.append(worker)
        yield urls[0], urls[1], workers


def _login_form(web: str) -> tuple[str, str]:
    """The CSRF cookie and form token of the log-in page."""
    page = requests.get(f"{web}/account/login/", timeout=30)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return str(page.cookies["csrftoken"]), match.group(1)


def _log_in(web: str, email: str, password: str) -> requests.Response:
    # The cookies are Secure (production settings) and this is plain HTTP, so they are sent by
    # hand rather than through a cookie jar, which would withhold them.
    cookie, token = _login_form(web)
    return requests.post(
        f"{web}/account/login/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={cookie}", "Referer": f"{web}/account/login/"},
        allow_redirects=False,
        timeout=30,
    )


def _wav(seconds: float) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = write_wav(Path(folder) / "clip.wav", click_track_with_chord(seconds=seconds))
        return path.read_bytes()


def test_two_web_processes_and_two_workers_share_everything(
    deployment: tuple[str, str, list[Worker]], user: User, settings: Any
) -> None:
    web_a, web_b, workers = deployment
    # Hashed the way the web processes (production settings) verify it, not the tests' MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user.set_password(PASSWORD)
    user.save()
    give_credits(user, amount=1000)
    auth = {"Authorization": f"Bearer {api_key_create(user=user).raw}"}

    # Uploaded through A, downloaded (from the shared bucket) and analysed through B.
    uploads: dict[int, bytes] = {}
    for index in range(JOBS):
        audio = _wav(3.0 + index)
        response = requests.post(
            f"{web_a}/api/v1/media/",
            files={"file": (f"clip-{index}.wav", audio, "audio/wav")},
            headers=auth,
            timeout=60,
        )
        assert response.status_code == 201, response.text
        uploads[response.json()["id"]] = audio
    for media_id, audio in uploads.items():
        download = requests.get(
            f"{web_b}/api/v1/media/{media_id}/download/", headers=auth, timeout=60
        )
        assert download.status_code == 200
        assert download.content == audio
    job_ids = []
    for media_id in uploads:
        started = requests.post(
            f"{web_b}/api/v1/analyses/", json={"media": media_id}, headers=auth, timeout=60
        )
        assert started.status_code == 202, started.text
        job_ids.append(started.json()["id"])

    def finished() -> list[dict[str, Any]] | None:
        details = [
            requests.get(f"{web_a}/api/v1/analyses/{job_id}/", headers=auth, timeout=30).json()
            for job_id in job_ids
        ]
        done = all(detail["status"] in {"succeeded", "failed"} for detail in details)
        return details if done else None

    details = wait_for(finished, timeout=180, what="the analyses to finish")
    assert [detail["status"] for detail in details] == ["succeeded"] * JOBS, details
    assert all(job.attempts == 1 for job in AnalysisJob.objects.filter(public_id__in=job_ids))
    runs = [
        line
        for worker in workers
        for line in re.findall(r"analysis_job_run\[[^\]]+\] succeeded", worker.output())
    ]
    assert len(runs) == JOBS

    # A session opened on A is valid on B.
    logged_in = _log_in(web_a, user.email, PASSWORD)
    assert logged_in.status_code == 302
    session = logged_in.cookies["sessionid"]
    account = requests.get(
        f"{web_b}/account/",
        headers={"Cookie": f"sessionid={session}"},
        allow_redirects=False,
        timeout=30,
    )
    assert account.status_code == 200
    assert user.email in account.text

    # Five failed log-ins, spread over both processes, use up one shared limit.
    for web in (web_a, web_b, web_a, web_b, web_a):
        assert _log_in(web, "nobody@example.com", "wrong").status_code == 200
    assert _log_in(web_b, "nobody@example.com", "wrong").status_code == 429

    # A key revoked through A is refused by B at once, though B has it cached.
    assert requests.get(f"{web_b}/api/v1/media/", headers=auth, timeout=30).status_code == 200
    key = ApiKey.objects.get(user=user)
    revoked = requests.delete(f"{web_a}/api/v1/api-keys/{key.public_id}/", headers=auth, timeout=30)
    assert revoked.status_code == 204
    assert requests.get(f"{web_b}/api/v1/media/", headers=auth, timeout=30).status_code == 401
