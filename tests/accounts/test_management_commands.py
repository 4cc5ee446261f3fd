from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User

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
