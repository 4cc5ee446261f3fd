"""End to end: uploads through the API, real Celery workers, Redis and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_enqueue, analysis_jobs_sweep
from billing.models import CreditAccount, FeatureUsage, Transfer
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import encode
from tests.support.workers import Worker, wait_for, worker_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEARTBEAT_STALE_SECONDS = 3


@pytest.fixture
def services_up(postgres_url: str, redis_url: str) -> Iterator[None]:
    # Only this suite's Redis database: a leftover task from an earlier run must not linger.
    redis.Redis.from_url(redis_url).flushdb()
    yield
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def start_worker(services_up: None, tmp_path: Path, settings: Any) -> Iterator[Any]:
    settings.ANALYSIS_HEARTBEAT_STALE_SECONDS = HEARTBEAT_STALE_SECONDS
    workers: list[Worker] = []

    def start(name: str) -> Worker:
        worker = worker_start(
            name=name,
            queue_name="analysis",
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


def _upload(client: APIClient, tmp_path: Path, *, seconds: float, name: str) -> str:
    mp3 = encode(click_track_with_chord(seconds=seconds), tmp_path / f"{name}.mp3")
    with mp3.open("rb") as handle:
        response = client.post("/api/v1/media/", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    media_id: str = response.json()["id"]
    return media_id


def _start(client: APIClient, media_id: str) -> str:
    response = client.post("/api/v1/analyses/", {"media": media_id}, format="json")
    assert response.status_code == 202, response.content
    job_id: str = response.json()["id"]
    return job_id


def _status(job_id: str) -> str:
    return AnalysisJob.objects.values_list("status", flat=True).get(public_id=job_id)


def test_an_uploaded_file_is_analysed_by_a_worker_with_sane_values(
    start_worker: Any, api_client: APIClient, user: User, tmp_path: Path
) -> None:
    give_credits(user, 10)
    start_worker("solo")
    media_id = _upload(api_client, tmp_path, seconds=8.0, name="clip")
    job_id = _start(api_client, media_id)
    wait_for(lambda: _status(job_id) in AnalysisJob.FINISHED, timeout=90, what="the job to end")

    job = api_client.get(f"/api/v1/analyses/{job_id}/").json()
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1
    result = job["result"]
    assert result["tempo"]["bpm"] == pytest.approx(120, rel=0.04)
    assert (result["key"]["key"], result["key"]["scale"]) == ("C", "major")
    assert -30 < result["loudness"]["integrated_lufs"] < 0
    assert result["duration"] == pytest.approx(8.0, abs=0.1)
    assert len(result["beats"]) >= 14

    timeline = api_client.get(f"/api/v1/analyses/{job_id}/timeline/", HTTP_ACCEPT_ENCODING="gzip")
    assert timeline["Content-Encoding"] == "gzip"
    arrays = json.loads(gzip.decompress(timeline.content))
    frames = len(arrays["timeline"]["rms"])
    assert frames == pytest.approx(8.0 * arrays["timeline"]["frame_rate"], abs=2)
    spotify = api_client.get(f"/api/v1/analyses/{job_id}/audio-analysis/")
    assert spotify.status_code == 200
    assert {"bars", "beats", "tatums", "sections", "segments"} <= set(spotify.json())

    assert (
        Transfer.objects.filter(
            kind="capture", job_ref=AnalysisJob.objects.get(public_id=job_id).job_ref
        ).count()
        == 1
    )
    assert CreditAccount.objects.get(user=user).available == 9


def test_a_job_whose_worker_is_killed_ends_failed_and_releases_its_reservation(
    start_worker: Any, api_client: APIClient, user: User, tmp_path: Path
) -> None:
    give_credits(user, 10)
    media_id = _upload(api_client, tmp_path, seconds=150.0, name="long")
    worker = start_worker("doomed")
    job_id = _start(api_client, media_id)
    assert CreditAccount.objects.get(user=user).available == 7
    wait_for(lambda: _status(job_id) == "running", timeout=30, what="the job to start")
    worker.kill()
    assert _status(job_id) == "running"

    # The periodic sweep, run here instead of waiting for beat, once the heartbeat is stale.
    wait_for(
        lambda: analysis_jobs_sweep().crashed == 1,
        timeout=HEARTBEAT_STALE_SECONDS + 10,
        what="the sweep to fail the orphaned job",
    )
    job = AnalysisJob.objects.get(public_id=job_id)
    assert (job.status, job.error_code) == ("failed", "engine_crash")
    assert job.finished_at is not None
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10


def test_two_workers_never_run_the_same_job_twice_even_when_tasks_are_delivered_twice(
    start_worker: Any, api_client: APIClient, user: User, tmp_path: Path
) -> None:
    give_credits(user, 20)
    first, second = start_worker("one"), start_worker("two")
    media_ids = [
        _upload(api_client, tmp_path, seconds=5.0 + index, name=f"clip{index}")
        for index in range(3)
    ]
    job_ids = [_start(api_client, media_id) for media_id in media_ids]
    for job in AnalysisJob.objects.filter(public_id__in=job_ids):
        # Duplicate deliveries of every task, as after a redelivery or a publisher retry.
        analysis_job_enqueue(job=job)
        analysis_job_enqueue(job=job)

    wait_for(
        lambda: all(_status(job_id) in AnalysisJob.FINISHED for job_id in job_ids),
        timeout=120,
        what="every job to end",
    )
    wait_for(
        lambda: (first.output() + second.output()).count("another delivery handled it") == 6,
        timeout=30,
        what="both duplicates of every task to be consumed",
    )
    for job in AnalysisJob.objects.filter(public_id__in=job_ids):
        assert (job.status, job.attempts) == ("succeeded", 1)
        assert Transfer.objects.filter(kind="capture", job_ref=job.job_ref).count() == 1
        assert FeatureUsage.objects.filter(job_ref=job.job_ref).count() == 1
    assert CreditAccount.objects.get(user=user).available == 20 - 3


def test_a_job_over_its_time_limit_ends_failed_with_timeout_and_is_not_charged(
    start_worker: Any, api_client: APIClient, user: User, tmp_path: Path, settings: Any
) -> None:
    # Limits are fixed when the job is created: one second for a clip that needs several.
    settings.ANALYSIS_TIME_LIMIT_BASE_SECONDS = 1
    settings.ANALYSIS_TIME_LIMIT_PER_AUDIO_SECOND = 0.0
    settings.ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS = 1
    give_credits(user, 10)
    media_id = _upload(api_client, tmp_path, seconds=150.0, name="slow")
    start_worker("strict")
    job_id = _start(api_client, media_id)
    wait_for(lambda: _status(job_id) in AnalysisJob.FINISHED, timeout=60, what="the job to end")
    job = AnalysisJob.objects.get(public_id=job_id)
    assert (job.status, job.error_code) == ("failed", "timeout")
    assert job.processing_seconds is not None
    assert job.processing_seconds < 10
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10
