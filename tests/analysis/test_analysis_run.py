"""Running a job in-process through the same service the Celery task calls."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.files.storage import default_storage

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_cancel, analysis_job_create, analysis_job_run
from billing.models import CreditAccount, FeatureUsage, Transfer
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _start(user: User, **media: object) -> AnalysisJob:
    give_credits(user, 10)
    return analysis_job_create(
        user=user,
        media_public_id=MediaFileFactory.create(owner=user, **media).public_id,
        features=None,
    )


def test_a_run_computes_the_audio_stores_the_arrays_and_captures_the_credits(user: User) -> None:
    job = _start(user)
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert (job.progress, job.stage, job.attempts, job.worker_host) == (100, "done", 1, "worker-a")
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.processing_seconds is not None
    assert job.processing_seconds > 0
    assert job.summary["tempo"]["bpm"] == pytest.approx(120, rel=0.04)
    assert (job.summary["key"]["key"], job.summary["key"]["scale"]) == ("C", "major")
    assert job.summary["duration"] == pytest.approx(6.0, abs=0.05)
    assert "timeline" not in job.summary
    assert "waveform" not in job.summary
    with default_storage.open(job.arrays_key, "rb") as handle:
        arrays = json.loads(gzip.decompress(handle.read()))
    assert set(arrays) == {"timeline", "waveform"}
    assert len(arrays["timeline"]["chroma"][0]) == 12
    assert job.audio_analysis_key
    capture = Transfer.objects.get(kind="capture", job_ref=job.job_ref)
    assert capture.amount == 1
    usage = FeatureUsage.objects.get(job_ref=job.job_ref)
    assert (usage.feature, usage.quantity, usage.unit) == ("analysis", 6, "audio_seconds")
    assert CreditAccount.objects.get(user=user).available == 9


def test_a_redelivered_task_for_a_finished_job_does_nothing_and_captures_once(user: User) -> None:
    job = _start(user)
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    finished = AnalysisJob.objects.get(pk=job.pk)
    analysis_job_run(job_id=job.pk, worker_host="worker-b")
    again = AnalysisJob.objects.get(pk=job.pk)
    assert (again.attempts, again.worker_host, again.finished_at) == (
        1,
        "worker-a",
        finished.finished_at,
    )
    assert Transfer.objects.filter(kind="capture", job_ref=job.job_ref).count() == 1
    assert FeatureUsage.objects.filter(job_ref=job.job_ref).count() == 1


def test_undecodable_audio_fails_with_its_code_and_releases_the_credits(user: User) -> None:
    job = _start(user, audio_bytes=b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 400)
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code in {"undecodable_audio", "unsupported_audio"}
    assert job.error_message
    assert job.result is None
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10


def test_cancelling_a_queued_job_releases_its_credits_and_the_task_then_skips_it(
    user: User,
) -> None:
    job = _start(user)
    cancelled = analysis_job_cancel(user=user, public_id=job.public_id)
    assert cancelled.status == "cancelled"
    assert CreditAccount.objects.get(user=user).available == 10
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("cancelled", 0)
    assert not Transfer.objects.filter(kind="capture").exists()


def test_a_job_cancelled_while_running_stops_and_is_never_charged(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _start(user)
    from jobs.runner import JobProgress

    real = JobProgress.__call__

    def cancel_on_decoding(progress: JobProgress, stage: str, percent: int) -> None:
        if stage == "decoding" and AnalysisJob.objects.get(pk=job.pk).status == "running":
            analysis_job_cancel(user=user, public_id=job.public_id)
        real(progress, stage, percent)

    # The user's cancel arrives from another request while the engine decodes.
    monkeypatch.setattr(JobProgress, "__call__", cancel_on_decoding)
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.result is None
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10


def test_cancelling_a_finished_job_is_refused_with_409(user: User) -> None:
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    job = _start(user)
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    response = client.post(f"/api/v1/analyses/{job.public_id}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "analysis_finished"


def test_a_queued_job_whose_audio_was_analysed_meanwhile_reuses_that_result_for_free(
    user: User,
) -> None:
    give_credits(user, 10)
    first_media = MediaFileFactory.create(owner=user)
    second_media = MediaFileFactory.create(owner=user)
    assert first_media.sha256 == second_media.sha256
    first = analysis_job_create(
        user=user, media_public_id=first_media.public_id, features=["tempo"]
    )
    second = analysis_job_create(
        user=user, media_public_id=second_media.public_id, features=["tempo"]
    )
    assert CreditAccount.objects.get(user=user).available == 8
    analysis_job_run(job_id=first.pk, worker_host="worker-a")
    analysis_job_run(job_id=second.pk, worker_host="worker-b")
    second.refresh_from_db()
    assert (second.status, second.reused_from_id) == ("succeeded", first.pk)
    assert second.result == AnalysisJob.objects.get(pk=first.pk).result
    assert Transfer.objects.filter(kind="capture").count() == 1
    assert Transfer.objects.filter(kind="release", job_ref=second.job_ref).count() == 1
    assert FeatureUsage.objects.get(job_ref=second.job_ref).cost == 0
    assert CreditAccount.objects.get(user=user).available == 9


def test_a_file_deleted_before_its_job_ran_fails_the_job_and_releases_it(user: User) -> None:
    job = _start(user)
    media = job.media
    media.status = "deleted"
    media.save()
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "media_not_available")
    assert CreditAccount.objects.get(user=user).available == 10
