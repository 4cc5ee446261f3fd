from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_sixth_failed_login_within_a_minute_gets_429_page(user: User) -> None:
    client = Client()
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": user.email, "password": "x"})
        assert response.status_code == 200
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many attempts" in response.content


def test_throttling_is_per_ip_and_email(user: User, other_user: User) -> None:
    client = Client()
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": user.email, "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"username": other_user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    from_elsewhere = Client(REMOTE_ADDR="10.9.9.9").post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert from_elsewhere.status_code == 302


def test_api_login_is_throttled_with_429_problem_json(user: User) -> None:
    client = APIClient()
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/login/", {"email": user.email, "password": "x"}, format="json"
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0


def test_limit_is_configurable(user: User, settings: object) -> None:
    settings.PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE = 2  # type: ignore[attr-defined]
    client = Client()
    for _ in range(2):
        client.post(reverse("accounts:login"), {"username": user.email, "password": "x"})
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": "x"})
    assert response.status_code == 429
