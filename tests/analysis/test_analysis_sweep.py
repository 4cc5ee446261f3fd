from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from celery.exceptions import TimeLimitExceeded
from django.utils import timezone

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_jobs_sweep
from analysis.tasks import analysis_job_run as run_task
from billing.models import CreditAccount, Transfer
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _running(user: User, *, started_ago: float, heartbeat_ago: float) -> AnalysisJob:
    give_credits(user, 10)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    now = timezone.now()
    AnalysisJob.objects.filter(pk=job.pk).update(
        status="running",
        attempts=1,
        started_at=now - timedelta(seconds=started_ago),
        heartbeat_at=now - timedelta(seconds=heartbeat_ago),
    )
    job.refresh_from_db()
    return job


def test_a_running_job_with_a_stale_heartbeat_fails_as_engine_crash_and_is_released(
    user: User, settings: object
) -> None:
    job = _running(user, started_ago=120, heartbeat_ago=100)
    report = analysis_jobs_sweep()
    job.refresh_from_db()
    assert (report.crashed, report.timed_out) == (1, 0)
    assert (job.status, job.error_code) == ("failed", "engine_crash")
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1
    assert CreditAccount.objects.get(user=user).available == 10


def test_a_job_running_past_its_hard_limit_fails_as_timeout(user: User) -> None:
    job = _running(user, started_ago=3600, heartbeat_ago=1)
    analysis_jobs_sweep()
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "timeout")


def test_a_live_job_is_left_running(user: User) -> None:
    job = _running(user, started_ago=5, heartbeat_ago=1)
    report = analysis_jobs_sweep()
    job.refresh_from_db()
    assert job.status == "running"
    assert (report.crashed, report.timed_out) == (0, 0)
    assert not Transfer.objects.filter(kind="release").exists()


def test_sweeping_twice_fails_and_releases_once(user: User) -> None:
    job = _running(user, started_ago=120, heartbeat_ago=100)
    analysis_jobs_sweep()
    second = analysis_jobs_sweep()
    assert second.crashed == 0
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1


def test_a_hard_time_limit_kill_ends_the_job_as_timeout_at_once(user: User) -> None:
    job = _running(user, started_ago=200, heartbeat_ago=1)
    # What Celery calls in the worker's main process after killing the child at the limit.
    run_task.on_failure(TimeLimitExceeded(150), "task-id", (job.pk,), {}, None)
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "timeout")
    assert CreditAccount.objects.get(user=user).available == 10


def test_a_job_the_broker_never_accepted_is_published_by_the_sweep(
    user: User, redis_url: str
) -> None:
    give_credits(user, 10)
    client = redis.Redis.from_url(redis_url)
    client.delete("analysis")
    # Created inside the test's transaction, so its on-commit publish never happened: the
    # same state as a publish refused by a broker outage.
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    assert job.published_at is None
    AnalysisJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(minutes=2))
    assert analysis_jobs_sweep().republished == 1
    job.refresh_from_db()
    assert job.published_at is not None
    assert client.llen("analysis") == 1
    assert analysis_jobs_sweep().republished == 0
    client.delete("analysis")
