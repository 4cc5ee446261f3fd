"""Log-in, sign-up and password reset limits bound what one address or one botnet can do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.limits import password_hash_slot
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold django-ratelimit's clock, so no counting window ends in the middle of a test."""
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


def _page_login(client: Client, email: str, password: str) -> int:
    response = client.post(reverse("accounts:login"), {"username": email, "password": password})
    return int(response.status_code)


def _api_login(client: APIClient, email: str, password: str) -> int:
    response = client.post(
        "/api/v1/auth/login/", {"email": email, "password": password}, format="json"
    )
    return int(response.status_code)


@pytest.fixture
def limits(settings: object) -> object:
    settings.PHONOGLYPH_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE = 10  # type: ignore[attr-defined]
    settings.PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR = 8  # type: ignore[attr-defined]
    return settings


@pytest.mark.parametrize("surface", ["page", "api"])
def test_one_address_is_limited_across_emails(limits: object, surface: str) -> None:
    accounts = UserFactory.create_batch(12)
    statuses = []
    for account in accounts:
        if surface == "page":
            statuses.append(_page_login(Client(), account.email, "Summer2024!"))
        else:
            statuses.append(_api_login(APIClient(), account.email, "Summer2024!"))
    failed = 200 if surface == "page" else 401
    assert statuses == [failed] * 10 + [429, 429]
    # Another address is not affected.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert _page_login(elsewhere, accounts[-1].email, DEFAULT_PASSWORD) == 302


def test_unknown_emails_count_against_the_address_too(limits: object) -> None:
    client = APIClient()
    statuses = [_api_login(client, f"nobody{n}@example.com", "x") for n in range(11)]
    assert statuses == [401] * 10 + [429]


def test_one_email_is_limited_across_addresses_but_not_for_its_known_device(
    limits: object, user: User
) -> None:
    first = Client(REMOTE_ADDR="192.0.2.1")
    assert _page_login(first, user.email, DEFAULT_PASSWORD) == 302
    # The same browser, logged out: it keeps only its device cookie.
    device = Client(REMOTE_ADDR="192.0.2.1")
    device.cookies["phonoglyph_device"] = first.cookies["phonoglyph_device"].value
    for n in range(8):
        assert _page_login(Client(REMOTE_ADDR=f"198.51.100.{n}"), user.email, "guess") == 200

    stranger = Client(REMOTE_ADDR="203.0.113.9")
    response = stranger.post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    api_stranger = APIClient(REMOTE_ADDR="203.0.113.10")
    assert _api_login(api_stranger, user.email, DEFAULT_PASSWORD) == 429

    # The owner's browser, even from a new address, still gets in with the right password.
    device.defaults["REMOTE_ADDR"] = "203.0.113.11"
    assert _page_login(device, user.email, DEFAULT_PASSWORD) == 302


def test_the_known_device_cookie_works_for_the_api_log_in_too(limits: object, user: User) -> None:
    device = APIClient()
    assert _api_login(device, user.email, DEFAULT_PASSWORD) == 200
    for n in range(8):
        _api_login(APIClient(REMOTE_ADDR=f"198.51.100.{n}"), user.email, "guess")
    assert _api_login(APIClient(), user.email, DEFAULT_PASSWORD) == 429
    assert _api_login(device, user.email, DEFAULT_PASSWORD) == 200


@pytest.fixture
def all_slots_taken(settings: object, tmp_path: object) -> Iterator[None]:
    settings.PHONOGLYPH_LOCK_DIR = str(tmp_path)  # type: ignore[attr-defined]
    settings.PHONOGLYPH_LOGIN_CONCURRENT_HASHES = 2  # type: ignore[attr-defined]
    with ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(password_hash_slot())
        yield


def test_a_log_in_waits_for_no_hashing_slot_it_answers_503(
    all_slots_taken: None, user: User
) -> None:
    response = APIClient().post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "login_busy"
    assert int(response["Retry-After"]) > 0
    page = Client().post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert page.status_code == 503
    assert int(page["Retry-After"]) > 0


def test_a_freed_slot_serves_the_next_log_in(
    settings: object, tmp_path: object, user: User
) -> None:
    settings.PHONOGLYPH_LOCK_DIR = str(tmp_path)  # type: ignore[attr-defined]
    settings.PHONOGLYPH_LOGIN_CONCURRENT_HASHES = 1  # type: ignore[attr-defined]
    with password_hash_slot():
        assert _api_login(APIClient(), user.email, DEFAULT_PASSWORD) == 503
    assert _api_login(APIClient(), user.email, DEFAULT_PASSWORD) == 200


def _signup(client: Client, email: str) -> int:
    response = client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": "a long pass phrase", "password2": "a long pass phrase"},
    )
    return int(response.status_code)


def test_signups_are_limited_per_address(settings: object) -> None:
    settings.PHONOGLYPH_SIGNUPS_PER_IP_PER_HOUR = 3  # type: ignore[attr-defined]
    statuses = [_signup(Client(), f"farm{n}@example.com") for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert User.objects.count() == 3
    assert _signup(Client(REMOTE_ADDR="10.7.7.7"), "farm9@example.com") == 302


def test_signups_are_limited_per_email_across_addresses(settings: object, user: User) -> None:
    settings.PHONOGLYPH_SIGNUPS_PER_EMAIL_PER_HOUR = 2  # type: ignore[attr-defined]
    statuses = [_signup(Client(REMOTE_ADDR=f"10.0.0.{n}"), user.email) for n in range(4)]
    assert statuses == [302, 302, 429, 429]
    assert len(mail.outbox) == 2


def test_password_reset_mails_are_limited_per_email_and_per_address(
    settings: object, user: User
) -> None:
    settings.PHONOGLYPH_PASSWORD_RESETS_PER_EMAIL_PER_HOUR = 3  # type: ignore[attr-defined]
    settings.PHONOGLYPH_PASSWORD_RESETS_PER_IP_PER_HOUR = 5  # type: ignore[attr-defined]
    url = reverse("accounts:password-reset")
    by_email = [
        Client(REMOTE_ADDR=f"10.0.1.{n}").post(url, {"email": user.email}).status_code
        for n in range(12)
    ]
    assert by_email == [302] * 3 + [429] * 9
    assert len(mail.outbox) == 3
    by_address = [
        Client().post(url, {"email": f"someone{n}@example.com"}).status_code for n in range(7)
    ]
    assert by_address == [302] * 5 + [429] * 2
