from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_createuser_creates_a_staff_user() -> None:
    out = io.StringIO()
    call_command("createuser", "Ops@Example.com", "--staff", stdout=out)
    user = User.objects.get(email="ops@example.com")
    assert user.is_staff
    assert not user.has_usable_password()


def test_createuser_refuses_a_duplicate(user: User) -> None:
    with pytest.raises(CommandError, match="already exists"):
        call_command("createuser", user.email)


def test_createapikey_prints_a_working_key(user: User) -> None:
    out = io.StringIO()
    call_command("createapikey", user.email, "--name", "script", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("phg_")
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.json()["email"] == user.email


def test_createapikey_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user"):
        call_command("createapikey", "nobody@example.com")


def test_createuser_with_a_password_makes_a_user_who_can_log_in_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long pass phrase\n"))
    call_command("createuser", "new@example.com", "--password-stdin", stdout=io.StringIO())
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": "new@example.com", "password": "a long pass phrase"}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:account")).status_code == 200


def test_createapikey_refuses_a_user_who_has_not_confirmed_the_sign_up() -> None:
    user_create(email="pending@example.com", password="a long pass phrase", confirmed=False)
    with pytest.raises(CommandError, match="Confirm your email first"):
        call_command("createapikey", "pending@example.com")
