from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from accounts.services import api_key_hash

pytestmark = pytest.mark.django_db


def _create_key_on_account_page(client: Client, name: str = "laptop") -> str:
    response = client.post(reverse("accounts:api-key-create"), {"name": name})
    assert response.status_code == 201
    match = re.search(rb"(phg_[A-Za-z0-9_\-]{20,})", response.content)
    assert match is not None
    return match.group(1).decode()


def test_api_key_is_shown_once_and_only_its_hash_is_stored(user: User) -> None:
    client = Client()
    client.force_login(user)
    raw = _create_key_on_account_page(client)
    stored = ApiKey.objects.get(user=user)
    assert stored.key_hash == api_key_hash(raw)
    assert raw not in str(ApiKey.objects.values_list().get())
    page = client.get(reverse("accounts:account"))
    assert raw.encode() not in page.content
    assert stored.prefix.encode() in page.content


def test_api_key_authenticates_bearer_requests_and_records_last_use(user: User) -> None:
    client = Client()
    client.force_login(user)
    raw = _create_key_on_account_page(client)
    api = APIClient()
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert ApiKey.objects.get(user=user).last_used_at is not None


def test_revoked_api_key_gets_401_problem_json(user: User) -> None:
    client = Client()
    client.force_login(user)
    raw = _create_key_on_account_page(client)
    key = ApiKey.objects.get(user=user)
    client.post(reverse("accounts:api-key-revoke", args=[key.public_id]))
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_user_cannot_revoke_someone_elses_key(user: User, other_user: User) -> None:
    client = Client()
    client.force_login(other_user)
    raw = _create_key_on_account_page(client)
    key = ApiKey.objects.get(user=other_user)
    mine = Client()
    mine.force_login(user)
    mine.post(reverse("accounts:api-key-revoke", args=[key.public_id]))
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_api_keys_can_be_created_listed_and_revoked_through_the_api(api_client: APIClient) -> None:
    created = api_client.post("/api/v1/api-keys/", {"name": "ci"}, format="json")
    assert created.status_code == 201
    raw = created.json()["key"]
    assert raw.startswith("phg_")
    listing = api_client.get("/api/v1/api-keys/").json()
    assert listing["count"] == 2
    assert all("key" not in item for item in listing["results"])
    assert api_client.delete(f"/api/v1/api-keys/{created.json()['id']}/").status_code == 204
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_garbage_bearer_token_gets_401(anon_client: APIClient) -> None:
    response = anon_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer phg_not-a-real-key")
    assert response.status_code == 401
    assert response.json()["status"] == 401
