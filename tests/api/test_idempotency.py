from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, User

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_first_response(api_client: APIClient, user: User) -> None:
    first = api_client.post(
        "/api/v1/api-keys/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    second = api_client.post(
        "/api/v1/api-keys/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == second.status_code == 201
    # The secret is shown once: the replay carries the key's metadata without it.
    assert second.json() == {name: value for name, value in first.json().items() if name != "key"}
    assert second["Idempotent-Replayed"] == "true"
    assert ApiKey.objects.filter(user=user, name="ci").count() == 1


def test_same_key_with_a_different_body_is_422_problem(api_client: APIClient, user: User) -> None:
    api_client.post("/api/v1/api-keys/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = api_client.post(
        "/api/v1/api-keys/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert not ApiKey.objects.filter(user=user, name="b").exists()


def test_different_keys_create_separate_resources(api_client: APIClient, user: User) -> None:
    for key in ("k-3", "k-4"):
        api_client.post("/api/v1/api-keys/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert ApiKey.objects.filter(user=user, name="x").count() == 2


def test_keys_are_scoped_to_the_user(api_client: APIClient, other_user: User) -> None:
    from accounts.services import api_key_create

    other = APIClient()
    minted = api_key_create(user=other_user, scopes=["api_keys"]).raw
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {minted}")
    api_client.post("/api/v1/api-keys/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = other.post(
        "/api/v1/api-keys/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "b"


def test_validation_refusal_is_replayed_too(api_client: APIClient) -> None:
    body = {"name": "n" * 200}
    first = api_client.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    second = api_client.post("/api/v1/api-keys/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"


def test_expired_key_can_be_used_again(api_client: APIClient, user: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from core.models import IdempotencyRecord

    api_client.post("/api/v1/api-keys/", {"name": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-6")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.post(
        "/api/v1/api-keys/", {"name": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k-6"
    )
    assert response.status_code == 201
