from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from billing.models import CreditAccount, FeatureUsage, Transfer
from engine.features import FEATURES
from tests.analysis.conftest import give_credits
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory

pytestmark = pytest.mark.django_db

URL = reverse("api:analysis-list")


def _available(user: User) -> int:
    return CreditAccount.objects.get(user=user).available


def test_start_returns_202_with_a_queued_job_and_reserves_its_credits(
    api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user)
    response = api_client.post(
        URL, {"media": str(media.public_id), "features": ["tempo", "key"]}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["features"] == ["tempo", "key"]
    assert body["progress"] == 0
    assert body["credits_reserved"] == 1
    assert body["links"]["self"] == reverse("api:analysis-detail", args=[body["id"]])
    assert _available(user) == 9
    reserve = Transfer.objects.get(
        kind="reserve", job_ref=AnalysisJob.objects.get(public_id=body["id"]).job_ref
    )
    assert reserve.amount == 1


def test_start_without_features_requests_all_of_them(api_client: APIClient, user: User) -> None:
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code == 202
    assert response.json()["features"] == list(FEATURES)


def test_unknown_feature_is_refused_with_the_allowed_list(
    api_client: APIClient, user: User
) -> None:
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    response = api_client.post(
        URL, {"media": str(media.public_id), "features": ["tempo", "vibe"]}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unknown_feature"
    assert problem["allowed"] == list(FEATURES)
    assert problem["unknown"] == ["vibe"]
    assert not AnalysisJob.objects.exists()


def test_another_users_media_is_not_found(
    api_client: APIClient, user: User, other_user: User
) -> None:
    give_credits(user)
    media = MediaFileFactory.create(owner=other_user)
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not AnalysisJob.objects.exists()


def test_rejected_media_cannot_be_analysed(api_client: APIClient, user: User) -> None:
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    media.status = "rejected"
    media.save()
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code in (404, 409)
    assert not AnalysisJob.objects.exists()


def test_insufficient_credits_refuse_with_402_and_create_no_job(
    api_client: APIClient, user: User
) -> None:
    media = MediaFileFactory.create(owner=user, duration_seconds=600.0)
    give_credits(user, 3)
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_credits"
    assert not AnalysisJob.objects.exists()
    assert _available(user) == 3


def test_replayed_post_with_the_same_idempotency_key_creates_one_job_and_one_reservation(
    api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user)
    payload = {"media": str(media.public_id), "features": ["tempo"]}
    first = api_client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    second = api_client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert AnalysisJob.objects.count() == 1
    assert Transfer.objects.filter(kind="reserve").count() == 1
    assert _available(user) == 9


def test_a_finished_result_for_the_same_audio_is_reused_for_free(
    api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user)
    earlier = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user),
        audio_sha256=media.sha256,
        features=["key", "tempo"],
        status="succeeded",
        result={"tempo": {"bpm": 120.0}, "key": {"key": "C", "scale": "major"}},
    )
    response = api_client.post(
        URL, {"media": str(media.public_id), "features": ["tempo", "key"]}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["reused"] is True
    assert body["credits_reserved"] == 0
    assert body["result"] == earlier.result
    assert _available(user) == 10
    assert not Transfer.objects.filter(kind="reserve").exists()
    usage = FeatureUsage.objects.get(job_ref=AnalysisJob.objects.get(public_id=body["id"]).job_ref)
    assert (usage.cost, usage.quantity) == (0, 6)


def test_list_and_detail_show_only_the_callers_jobs(
    api_client: APIClient, user: User, other_user: User
) -> None:
    mine = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=user))
    theirs = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=other_user))
    listed = api_client.get(URL).json()
    assert [job["id"] for job in listed["results"]] == [str(mine.public_id)]
    assert api_client.get(reverse("api:analysis-detail", args=[mine.public_id])).status_code == 200
    response = api_client.get(reverse("api:analysis-detail", args=[theirs.public_id]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_requests_are_refused(anon_client: APIClient) -> None:
    assert anon_client.get(URL).status_code == 401
