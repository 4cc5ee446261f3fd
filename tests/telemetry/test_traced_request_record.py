"""A traced request's transaction, built after the response from what the request recorded,
tells the request's own times and holds the errors it raised."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
import sentry_sdk
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db


def _seconds(timestamp: str | float) -> float:
    if isinstance(timestamp, str):
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    return float(timestamp)


def _transactions(server: RecordingServer) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=5)
    server.wait_for(lambda s: bool(s.sentry_items("transaction")))
    return server.sentry_items("transaction")


def test_the_transaction_starts_and_ends_when_the_request_did(
    sentry_server: RecordingServer, user: User
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")

    before = time.time()
    response = client.get("/api/v1/me/")
    after = time.time()
    # Sending waits for the response's delivery; the clock must not have gone on meanwhile.
    time.sleep(0.3)

    assert response.status_code == 200
    [transaction] = _transactions(sentry_server)
    started = _seconds(transaction["start_timestamp"])
    ended = _seconds(transaction["timestamp"])
    assert before <= started <= ended <= after
    assert transaction["contexts"]["trace"]["status"] == "ok"
    assert transaction["transaction"] == "/api/v1/me/"


def test_an_error_in_a_traced_request_is_filed_under_its_transaction(
    sentry_server: RecordingServer, settings: Any, user: User
) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")

    response = client.post("/api/v1/explode/", {"n": 1}, format="json")

    assert response.status_code == 500
    [transaction] = _transactions(sentry_server)
    [error] = [event for event in sentry_server.sentry_events() if event.get("exception")]
    assert transaction["contexts"]["trace"]["status"] == "internal_error"
    assert error["contexts"]["trace"]["trace_id"] == transaction["contexts"]["trace"]["trace_id"]
    assert error["contexts"]["trace"]["span_id"] == transaction["contexts"]["trace"]["span_id"]
