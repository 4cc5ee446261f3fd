"""Storage outages are retried with backoff; the job is never charged twice nor left running."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from accounts.models import User
from analysis import kind, services
from analysis.models import AnalysisJob
from analysis.tasks import analysis_job_run as run_task
from billing.models import CreditAccount, Transfer
from media.errors import StorageUnavailable
from media.selectors import LocalAudio, media_open_local_copy
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _flaky_storage(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make fetching the audio fail `failures` times, as an unreachable S3 endpoint would."""
    calls: list[int] = []
    real = media_open_local_copy

    @contextmanager
    def fetch(*, media: Any) -> Iterator[LocalAudio]:
        calls.append(1)
        if len(calls) <= failures:
            raise StorageUnavailable("The stored file could not be fetched.")
        with real(media=media) as local:
            yield local

    monkeypatch.setattr(kind, "media_open_local_copy", fetch)
    return calls


def _job(user: User) -> AnalysisJob:
    give_credits(user, 10)
    return services.analysis_job_create(
        user=user,
        media_public_id=MediaFileFactory.create(owner=user).public_id,
        features=["tempo", "key"],
    )


def test_a_storage_outage_is_retried_and_the_job_then_succeeds_once(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _job(user)
    calls = _flaky_storage(monkeypatch, failures=2)
    run_task.apply(args=(job.pk,))
    job.refresh_from_db()
    assert len(calls) == 3
    assert (job.status, job.attempts) == ("succeeded", 3)
    assert Transfer.objects.filter(kind="capture", job_ref=job.job_ref).count() == 1
    assert CreditAccount.objects.get(user=user).available == 9


def test_an_outage_that_outlasts_the_retries_fails_the_job_and_releases_it(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _job(user)
    calls = _flaky_storage(monkeypatch, failures=100)
    run_task.apply(args=(job.pk,))
    job.refresh_from_db()
    assert len(calls) == (run_task.max_retries or 0) + 1
    assert (job.status, job.error_code) == ("failed", "service_unavailable")
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10


def test_undecodable_audio_is_not_retried(user: User) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user, audio_bytes=b"RIFF" + b"\x00" * 600)
    job = services.analysis_job_create(user=user, media_public_id=media.public_id, features=None)
    run_task.apply(args=(job.pk,))
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.attempts == 1
