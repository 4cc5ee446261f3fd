"""No API key secret is left in the database, whichever way the key was created."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = re.compile(r"phg_[A-Za-z0-9_\-]{20,}")


def _stored_text() -> list[tuple[str, str]]:
    """Every text, JSON and binary value of every table, with the table it came from."""
    found: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            # Table names come from the database's own catalogue, quoted by the backend.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    text = _as_text(value)
                    if text is not None:
                        found.append((table, text))
    # Session data is signed and base64-encoded: look inside it too.
    found.extend(("django_session", repr(s.get_decoded())) for s in Session.objects.all())
    return found


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return repr(value)
    return None


def test_no_table_holds_a_key_secret_after_keys_are_created_every_way(user: User) -> None:
    secrets: list[str] = []
    page = Client()
    page.force_login(user)
    response = page.post(reverse("accounts:api-key-create"), {"name": "page"})
    secrets += SECRET.findall(response.content.decode())

    out = io.StringIO()
    call_command("createapikey", user.email, "--name", "command", "--scope", "api_keys", stdout=out)
    secrets += SECRET.findall(out.getvalue())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secrets[-1]}")

    session_api = APIClient()
    session_api.force_login(user)
    for index, client in enumerate((api, session_api)):
        plain = client.post("/api/v1/api-keys/", {"name": "plain"}, format="json")
        secrets.append(plain.json()["key"])
        for _ in range(2):
            repeated = client.post(
                "/api/v1/api-keys/",
                {"name": "once"},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"once-{index}",
            )
            assert repeated.status_code == 201
            if "key" in repeated.json():
                secrets.append(repeated.json()["key"])
            else:
                assert repeated["Idempotent-Replayed"] == "true"
                assert repeated.json()["prefix"] == secrets[-1][: len(repeated.json()["prefix"])]

    assert len(secrets) == 6
    assert len(set(secrets)) == 6
    leaks = [(table, match) for table, text in _stored_text() for match in SECRET.findall(text)]
    assert leaks == []
    assert all(secret.startswith("phg_") for secret in secrets)


def test_an_idempotent_replay_of_a_key_creation_does_not_show_the_secret(
    api_client: APIClient,
) -> None:
    first = api_client.post(
        "/api/v1/api-keys/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="mint-1"
    )
    replay = api_client.post(
        "/api/v1/api-keys/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="mint-1"
    )
    assert first.json()["key"].startswith("phg_")
    assert replay["Idempotent-Replayed"] == "true"
    assert "key" not in replay.json()
    assert replay.json()["id"] == first.json()["id"]
    assert first.json()["key"] not in replay.content.decode()
