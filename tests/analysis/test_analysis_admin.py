from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create
from tests.analysis.conftest import give_credits
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:analysis_analysisjob_changelist")


@pytest.fixture
def staff(staff_user: User) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


def test_jobs_filter_by_status_code_and_feature(staff: Client, user: User) -> None:
    failed = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user), status="failed", error_code="timeout"
    )
    tempo_only = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user), features=["tempo"]
    )
    page = staff.get(CHANGELIST, {"status__exact": "failed", "error_code": "timeout"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [failed]
    by_feature = staff.get(CHANGELIST, {"feature": "key"})
    assert tempo_only not in by_feature.context["cl"].result_list
    assert failed in by_feature.context["cl"].result_list


def test_retry_starts_a_new_job_for_a_failed_one(staff: Client, user: User) -> None:
    give_credits(user, 10)
    failed = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user), status="failed", error_code="engine_crash"
    )
    staff.post(CHANGELIST, {"action": "retry_jobs", "_selected_action": [failed.pk]})
    retried = AnalysisJob.objects.exclude(pk=failed.pk).get()
    assert (retried.status, retried.media_id, retried.features) == (
        "queued",
        failed.media_id,
        failed.features,
    )
    assert retried.credits_reserved == 1


def test_cancel_action_cancels_queued_jobs(staff: Client, user: User) -> None:
    give_credits(user, 10)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    staff.post(CHANGELIST, {"action": "cancel_jobs", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_job_detail_is_read_only(staff: Client, user: User) -> None:
    job = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=user))
    page = staff.get(reverse("admin:analysis_analysisjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert b'name="status"' not in page.content
