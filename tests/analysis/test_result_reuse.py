"""A finished result is reused for its own account only; another account's upload is analysed."""

from __future__ import annotations

import pytest

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from billing.models import CreditAccount, FeatureUsage, Transfer
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _analysed(user: User) -> AnalysisJob:
    give_credits(user, 10)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=["tempo"]
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "succeeded"
    return job


def test_another_accounts_identical_upload_is_analysed_as_its_own_paid_job(
    user: User, other_user: User
) -> None:
    first = _analysed(user)
    give_credits(other_user, 10)
    media = MediaFileFactory.create(owner=other_user)
    assert media.sha256 == first.audio_sha256
    second = analysis_job_create(
        user=other_user, media_public_id=media.public_id, features=["tempo"]
    )
    assert (second.status, second.credits_reserved) == ("queued", 1)
    analysis_job_run(job_id=second.pk, worker_host="worker-b")
    second.refresh_from_db()
    assert (second.status, second.reused_from_id, second.worker_host) == (
        "succeeded",
        None,
        "worker-b",
    )
    assert second.processing_seconds is not None
    assert second.processing_seconds > 0
    assert Transfer.objects.filter(kind="capture", job_ref=second.job_ref).count() == 1
    assert FeatureUsage.objects.get(job_ref=second.job_ref).cost == 1
    assert CreditAccount.objects.get(user=other_user).available == 9


def test_another_accounts_job_queued_meanwhile_still_runs_its_own_analysis(
    user: User, other_user: User
) -> None:
    give_credits(user, 10)
    give_credits(other_user, 10)
    mine = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=["tempo"]
    )
    theirs = analysis_job_create(
        user=other_user,
        media_public_id=MediaFileFactory.create(owner=other_user).public_id,
        features=["tempo"],
    )
    assert mine.audio_sha256 == theirs.audio_sha256
    analysis_job_run(job_id=mine.pk, worker_host="worker-a")
    analysis_job_run(job_id=theirs.pk, worker_host="worker-b")
    theirs.refresh_from_db()
    assert (theirs.status, theirs.reused_from_id) == ("succeeded", None)
    assert theirs.processing_seconds is not None
    assert theirs.processing_seconds > 0
    assert Transfer.objects.filter(kind="capture", job_ref=theirs.job_ref).count() == 1
    assert CreditAccount.objects.get(user=other_user).available == 9


def test_the_same_accounts_reupload_reuses_its_result_for_free(user: User) -> None:
    first = _analysed(user)
    again = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=["tempo"]
    )
    assert (again.status, again.reused_from_id, again.processing_seconds) == (
        "succeeded",
        first.pk,
        0.0,
    )
    assert again.result == first.result
    assert FeatureUsage.objects.get(job_ref=again.job_ref).cost == 0
    assert not Transfer.objects.filter(kind="reserve", job_ref=again.job_ref).exists()
    assert CreditAccount.objects.get(user=user).available == 9
