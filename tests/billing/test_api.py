from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.errors import InsufficientCredits
from billing.models import FeatureUsage
from billing.services import credits_capture, credits_reserve
from core.api.exceptions import problem_exception_handler
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def _spend(user, amount: int, feature: str = "analysis", seconds: int = 60) -> str:
    ref = job_ref()
    credits_reserve(user=user, amount=amount, feature=feature, job_ref=ref)
    credits_capture(job_ref=ref, feature=feature, usage_quantity=seconds)
    return ref


def test_credits_endpoint_shows_available_reserved_and_posted(api_client, user) -> None:
    fund(user, 20)
    _spend(user, 5)
    credits_reserve(user=user, amount=3, feature="analysis", job_ref=job_ref())
    response = api_client.get(reverse("api:credit-balance"))
    assert response.status_code == 200
    assert response.json() == {"available": 12, "reserved": 3, "posted": 15}


def test_credits_endpoint_for_a_user_without_an_account_shows_zero(api_client) -> None:
    response = api_client.get(reverse("api:credit-balance"))
    assert response.json() == {"available": 0, "reserved": 0, "posted": 0}


def test_credits_endpoint_requires_authentication(anon_client) -> None:
    response = anon_client.get(reverse("api:credit-balance"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_transfers_list_only_the_callers_history_paginated(api_client, user, other_user) -> None:
    fund(user, 20)
    fund(other_user, 99)
    ref = _spend(user, 5)
    response = api_client.get(reverse("api:credit-transfer-list"), {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    newest = body["results"][0]
    assert (newest["kind"], newest["direction"], newest["amount"], newest["job_ref"]) == (
        "capture",
        "debit",
        5,
        ref,
    )
    everything = api_client.get(reverse("api:credit-transfer-list")).json()["results"]
    assert [t["kind"] for t in everything] == ["capture", "reserve", "grant"]
    assert everything[-1]["direction"] == "credit"
    assert 99 not in [t["amount"] for t in everything]


def test_usage_sums_per_day_and_feature(api_client, user, other_user) -> None:
    fund(user, 50)
    fund(other_user, 50)
    _spend(user, 2, seconds=100)
    _spend(user, 3, seconds=120)
    _spend(user, 6, feature="stem_separation", seconds=90)
    _spend(other_user, 9)
    today = timezone.now().date().isoformat()
    response = api_client.get(reverse("api:usage"), {"from": today, "to": today})
    assert response.status_code == 200
    assert response.json() == {
        "from": today,
        "to": today,
        "results": [
            {
                "day": today,
                "feature": "analysis",
                "unit": "audio_seconds",
                "quantity": 220,
                "credits": 5,
                "uses": 2,
            },
            {
                "day": today,
                "feature": "stem_separation",
                "unit": "audio_seconds",
                "quantity": 90,
                "credits": 6,
                "uses": 1,
            },
        ],
    }


def test_usage_filters_by_feature_and_range(api_client, user) -> None:
    fund(user, 50)
    _spend(user, 2)
    old = _spend(user, 4)
    FeatureUsage.objects.filter(job_ref=old).update(created_at=timezone.now() - timedelta(days=40))
    _spend(user, 6, feature="stem_separation")
    body = api_client.get(reverse("api:usage"), {"feature": "analysis"}).json()
    assert [(row["feature"], row["credits"]) for row in body["results"]] == [("analysis", 2)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"feature": "mining"}, "feature"),
    ],
)
def test_usage_answers_bad_parameters_with_a_problem(api_client, params, field) -> None:
    response = api_client.get(reverse("api:usage"), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_insufficient_credits_renders_as_a_402_problem_with_the_amounts(user) -> None:
    fund(user, 1)
    with pytest.raises(InsufficientCredits) as refused:
        credits_reserve(user=user, amount=4, feature="analysis", job_ref=job_ref())
    response = problem_exception_handler(refused.value, {})
    assert response is not None
    assert response.status_code == 402
    assert response.data["code"] == "insufficient_credits"
    assert (response.data["required"], response.data["available"]) == (4, 1)
