"""API keys act within their scopes: minting and revoking keys needs `api_keys`."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _works(raw: str) -> bool:
    return _client(raw).get("/api/v1/me/").status_code == 200


def test_a_key_without_the_scope_cannot_mint_keys(user: User) -> None:
    plain = api_key_create(user=user).raw
    response = _client(plain).post("/api/v1/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "api_key_scope_missing"
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_key_without_the_scope_cannot_revoke_the_users_other_keys(user: User) -> None:
    plain = api_key_create(user=user).raw
    other = api_key_create(user=user)
    response = _client(plain).delete(f"/api/v1/api-keys/{other.api_key.public_id}/")
    assert response.status_code == 403
    assert response.json()["code"] == "api_key_scope_missing"
    assert _works(other.raw)


def test_a_key_may_revoke_itself(user: User) -> None:
    plain = api_key_create(user=user)
    assert (
        _client(plain.raw).delete(f"/api/v1/api-keys/{plain.api_key.public_id}/").status_code == 204
    )
    assert not _works(plain.raw)


def test_keys_minted_by_a_key_are_revoked_with_it(user: User) -> None:
    parent = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS])
    child = _client(parent.raw).post(
        "/api/v1/api-keys/", {"name": "child", "scopes": ["api_keys"]}, format="json"
    )
    assert child.status_code == 201
    grandchild = _client(child.json()["key"]).post(
        "/api/v1/api-keys/", {"name": "grandchild"}, format="json"
    )
    assert grandchild.status_code == 201
    assert _works(child.json()["key"])
    assert _works(grandchild.json()["key"])

    session = Client()
    session.force_login(user)
    session.post(reverse("accounts:api-key-revoke", args=[parent.api_key.public_id]))

    assert not _works(parent.raw)
    assert not _works(child.json()["key"])
    assert not _works(grandchild.json()["key"])


def test_a_minted_key_cannot_get_scopes_its_parent_lacks(user: User) -> None:
    parent = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS])
    child = _client(parent.raw).post("/api/v1/api-keys/", {"name": "child"}, format="json")
    response = _client(child.json()["key"]).post(
        "/api/v1/api-keys/", {"scopes": ["api_keys"]}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "api_key_scope_missing"


def test_a_scoped_key_revokes_only_keys_it_minted(user: User) -> None:
    manager = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS])
    sibling = api_key_create(user=user)
    response = _client(manager.raw).delete(f"/api/v1/api-keys/{sibling.api_key.public_id}/")
    assert response.status_code == 404
    assert _works(sibling.raw)


def test_an_expired_key_gets_401_and_a_child_never_outlives_its_parent(user: User) -> None:
    soon = timezone.now() + timedelta(days=1)
    parent = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS], expires_at=soon)
    later = (timezone.now() + timedelta(days=30)).isoformat()
    child = _client(parent.raw).post("/api/v1/api-keys/", {"expires_at": later}, format="json")
    assert child.status_code == 201
    assert ApiKey.objects.get(public_id=child.json()["id"]).expires_at == soon

    parent.api_key.expires_at = timezone.now()
    parent.api_key.save(update_fields=["expires_at"])
    response = _client(parent.raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_an_expiry_in_the_past_is_refused(api_client: APIClient) -> None:
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api_client.post("/api/v1/api-keys/", {"expires_at": past}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_api_key_request"


def test_the_account_page_creates_scoped_expiring_keys_and_shows_last_use(user: User) -> None:
    page = Client()
    page.force_login(user)
    created = page.post(
        reverse("accounts:api-key-create"),
        {"name": "deploy", "expires_in_days": "30", "can_manage_keys": "on"},
    )
    assert created.status_code == 201
    raw = re.search(r"phg_[A-Za-z0-9_\-]{20,}", created.content.decode())
    assert raw is not None
    key = ApiKey.objects.get(user=user)
    assert key.scopes == ["api_keys"]
    assert key.expires_at is not None
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    before = page.get(reverse("accounts:account")).content.decode()
    assert re.search(r'class="last-used">never<', before)

    assert _works(raw.group(0))
    after = page.get(reverse("accounts:account")).content.decode()
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert f'class="last-used">{key.last_used_at:%Y-%m-%d %H:%M}<' in after


def test_createapikey_grants_scopes_and_expiry(user: User) -> None:
    out = io.StringIO()
    call_command(
        "createapikey", user.email, "--scope", "api_keys", "--expires-in-days", "7", stdout=out
    )
    key = ApiKey.objects.get(user=user)
    assert key.scopes == ["api_keys"]
    assert key.expires_at is not None
    assert _works(out.getvalue().strip())
