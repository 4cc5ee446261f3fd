"""API keys and plans are read from the shared cache, and every change to them is seen at once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.cache import api_key_cached
from accounts.models import ApiKey, Plan, User
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The embedded setup's local memory and production's Redis."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            **settings.CACHES,
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
        }
        from django.core.cache import cache

        cache.clear()
    return request.param


def _api(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _account_page(user: User) -> Client:
    """The account page, logged in before any key is used (a log-in saves the user)."""
    page = Client()
    page.force_login(user)
    return page


def _key_reads(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/media/").status_code == 200
    return sum('FROM "accounts_apikey"' in query["sql"] for query in queries.captured_queries)


def test_a_key_in_use_is_not_read_from_the_database_on_every_request(user, shared_cache):
    client = _api(api_key_create(user=user).raw)
    assert _key_reads(client) == 1
    assert _key_reads(client) == 0


def test_a_key_revoked_on_the_account_page_is_refused_at_once(user, shared_cache):
    page = _account_page(user)
    raw = api_key_create(user=user).raw
    client = _api(raw)
    assert client.get("/api/v1/media/").status_code == 200
    key = ApiKey.objects.get(user=user)
    page.post(reverse("accounts:api-key-revoke", args=[key.public_id]))
    response = client.get("/api/v1/media/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_revoking_a_key_refuses_the_keys_it_minted_at_once(user, shared_cache):
    page = _account_page(user)
    parent = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS])
    minted = _api(parent.raw).post("/api/v1/api-keys/", {"name": "ci"}, format="json")
    child = _api(minted.json()["key"])
    assert child.get("/api/v1/media/").status_code == 200
    page.post(reverse("accounts:api-key-revoke", args=[parent.api_key.public_id]))
    assert child.get("/api/v1/media/").status_code == 401


def test_a_deactivated_user_is_refused_at_once(user, shared_cache):
    client = _api(api_key_create(user=user).raw)
    assert client.get("/api/v1/media/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/media/").status_code == 401


def test_a_deleted_key_or_user_is_refused_at_once(user, other_user, shared_cache):
    deleted_key = api_key_create(user=user)
    of_deleted_user = _api(api_key_create(user=other_user).raw)
    client = _api(deleted_key.raw)
    assert client.get("/api/v1/media/").status_code == 200
    assert of_deleted_user.get("/api/v1/media/").status_code == 200
    deleted_key.api_key.delete()
    other_user.delete()
    assert client.get("/api/v1/media/").status_code == 401
    assert of_deleted_user.get("/api/v1/media/").status_code == 401


def test_a_key_that_expires_while_cached_is_refused(user, shared_cache):
    expires_at = timezone.now() + timedelta(milliseconds=300)
    client = _api(api_key_create(user=user, expires_at=expires_at).raw)
    assert client.get("/api/v1/media/").status_code == 200
    assert client.get("/api/v1/media/").status_code == 200  # from the cache
    time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.05)
    assert client.get("/api/v1/media/").status_code == 401


def test_a_plan_staff_edit_in_the_admin_applies_to_the_next_request(user, shared_cache, settings):
    settings.PHONOGLYPH_FREE_REQUESTS_PER_MINUTE = None
    client = _api(api_key_create(user=user).raw)
    assert client.get("/api/v1/media/")["RateLimit-Policy"].startswith('"minute";q=60;')
    staff = User.objects.create_superuser(email="staff@example.com", password="x" * 12)
    admin = Client()
    admin.force_login(staff)
    free = Plan.objects.get(name=Plan.FREE)
    assert site.is_registered(Plan)
    form = {
        "name": free.name,
        "requests_per_minute": 90,
        "requests_per_day": free.requests_per_day,
        "concurrent_jobs": free.concurrent_jobs,
        "monthly_free_credits": "",
    }
    changed = admin.post(reverse("admin:accounts_plan_change", args=[free.pk]), form)
    assert changed.status_code == 302, changed.content[:2000]
    assert client.get("/api/v1/media/")["RateLimit-Policy"].startswith('"minute";q=90;')


def test_moving_a_user_to_another_plan_applies_to_the_next_request(user, shared_cache, settings):
    settings.PHONOGLYPH_FREE_REQUESTS_PER_MINUTE = None
    client = _api(api_key_create(user=user).raw)
    assert client.get("/api/v1/media/")["RateLimit-Policy"].startswith('"minute";q=60;')
    user.plan = Plan.objects.get(name="pro")
    user.save()
    assert client.get("/api/v1/media/")["RateLimit-Policy"].startswith('"minute";q=600;')


def test_the_cache_never_holds_the_users_password_hash(user, shared_cache):
    user.set_password("correct horse battery staple")
    user.save()
    created = api_key_create(user=user)
    assert _api(created.raw).get("/api/v1/media/").status_code == 200
    cached = api_key_cached(created.api_key.key_hash, lambda: None)
    assert cached is not None
    assert cached.user.pk == user.pk
    assert "password" in cached.user.get_deferred_fields()
    # Saving the user that came from the cache keeps the password.
    cached.user.theme = "dark"
    cached.user.save()
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")
