"""A job that finishes or fails leaves its owner a notification linking to its page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from analysis.kind import ANALYSIS_KIND
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from jobs.lifecycle import job_cancel
from notifications.models import Notification
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory
from tests.notifications.conftest import (
    end_analysis,
    end_separation,
    running_analysis,
    running_separation,
)

pytestmark = pytest.mark.django_db


def test_a_real_analysis_run_that_finishes_notifies_its_owner_with_the_results_page(
    user: User, django_capture_on_commit_callbacks
):
    give_credits(user)
    media = MediaFileFactory.create(owner=user, display_name="groove.wav")
    job = analysis_job_create(
        user=user, media_public_id=media.public_id, features=["tempo", "loudness"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        analysis_job_run(job_id=job.pk, worker_host="worker-a")

    notification = Notification.objects.get()
    assert notification.owner == user
    assert notification.title == "Analysis of groove.wav finished"
    assert notification.body == "The results are ready."
    assert notification.outcome == "succeeded"
    assert notification.link == reverse("analysis:job-detail", args=[job.public_id])
    assert notification.read_at is None


def test_a_real_analysis_run_that_fails_says_why_in_plain_words(
    user: User, django_capture_on_commit_callbacks
):
    give_credits(user)
    media = MediaFileFactory.create(
        owner=user, display_name="broken.wav", audio_bytes=b"RIFF not really audio" * 50
    )
    job = analysis_job_create(user=user, media_public_id=media.public_id, features=["tempo"])
    with django_capture_on_commit_callbacks(execute=True):
        analysis_job_run(job_id=job.pk, worker_host="worker-a")

    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.FAILED
    notification = Notification.objects.get()
    assert notification.title == "Analysis of broken.wav failed"
    assert notification.body == f"{job.error_message} No credits were charged."
    assert notification.outcome == "failed"
    assert notification.link == reverse("analysis:job-detail", args=[job.public_id])


@pytest.mark.parametrize("failed", [False, True], ids=["finished", "failed"])
def test_a_stem_separation_that_ends_notifies_its_owner(
    user: User, failed: bool, django_capture_on_commit_callbacks
):
    job = running_separation(user, name="song.flac")
    end_separation(job, failed=failed, capture=django_capture_on_commit_callbacks)

    notification = Notification.objects.get()
    assert notification.owner == user
    assert notification.job_kind == "stem_separation"
    assert notification.link == reverse("stems:job-detail", args=[job.public_id])
    if failed:
        assert notification.title == "Stem separation of song.flac failed"
        assert notification.body == (
            "The separation took longer than its time limit for this audio duration. "
            "No credits were charged."
        )
    else:
        assert notification.title == "Stem separation of song.flac finished"


def test_a_cancelled_job_leaves_no_notification(user: User, django_capture_on_commit_callbacks):
    job = running_analysis(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_cancel(kind=ANALYSIS_KIND, job=job)
    assert not Notification.objects.exists()


def test_a_reused_result_ready_at_once_leaves_no_notification(
    user: User, django_capture_on_commit_callbacks
):
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    first = analysis_job_create(user=user, media_public_id=media.public_id, features=["tempo"])
    with django_capture_on_commit_callbacks(execute=True):
        analysis_job_run(job_id=first.pk, worker_host="worker-a")
    Notification.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        again = analysis_job_create(user=user, media_public_id=media.public_id, features=["tempo"])
    assert again.reused_from_id == first.pk
    assert not Notification.objects.exists()


def test_each_owner_hears_only_of_their_own_jobs(
    user: User, other_user: User, django_capture_on_commit_callbacks
):
    end_analysis(running_analysis(user), failed=False, capture=django_capture_on_commit_callbacks)
    end_analysis(
        running_analysis(other_user, name="theirs.wav"),
        failed=True,
        capture=django_capture_on_commit_callbacks,
    )
    assert list(Notification.objects.filter(owner=user).values_list("title", flat=True)) == [
        "Analysis of groove.wav finished"
    ]
    assert list(Notification.objects.filter(owner=other_user).values_list("title", flat=True)) == [
        "Analysis of theirs.wav failed"
    ]
