"""With Redis unreachable, log-in keeps working under limits counted in process memory."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_cache_really_is_unreachable(unreachable_redis: str) -> None:
    from django.core.cache import cache

    with pytest.raises(Exception, match=r"(?i)connect"):
        cache.get("anything")


def test_api_and_page_log_in_work_while_the_cache_is_down(
    unreachable_redis: str, user: User
) -> None:
    api = APIClient().post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert api.status_code == 200
    wrong = APIClient().post(
        "/api/v1/auth/login/", {"email": user.email, "password": "nope"}, format="json"
    )
    assert wrong.status_code == 401
    page = Client().post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert page.status_code == 302


def test_failed_log_ins_are_still_limited_while_the_cache_is_down(
    unreachable_redis: str, user: User
) -> None:
    client = Client()
    statuses = [
        client.post(
            reverse("accounts:login"), {"username": user.email, "password": "x"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_readyz_reports_the_cache_down_with_503_not_500(unreachable_redis: str) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "cache" in response.json()["failing"]
