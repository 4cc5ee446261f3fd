"""Errors reach Sentry with their whole context whether or not their request or task is traced.

Tracing is decided at the edge; an untraced request builds its context only when an event is
sent. These tests run the same failures at the production rate (0.1), at 0 and at 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from celery import shared_task
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from core.logging import request_id_var, user_id_var
from telemetry.reporting import capture_processing_error
from telemetry.tracing import drain_transactions
from tests.support.sentry import sentry_start, sentry_stop
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db

RATES = [0.0, 0.1, 1.0]


class ChordDetectorFailed(RuntimeError):
    pass


@shared_task(name="tests.telemetry.detect_chords_and_crash")
def detect_chords_and_crash(*, job_id: str) -> None:
    try:
        raise ChordDetectorFailed("no frames")
    except ChordDetectorFailed as error:
        capture_processing_error(error, operation="analysis.run", job_id=job_id)
        raise


@pytest.fixture(params=RATES, ids=lambda rate: f"traces-{rate:.0%}")
def sentry_at_rate(request: Any, recording_server: RecordingServer) -> Iterator[RecordingServer]:
    """Sentry posting to the recording server, tracing at the parametrised rate."""
    sentry_start(port=recording_server.port, traces_sample_rate=request.param)
    yield recording_server
    sentry_stop()


def _error_events(server: RecordingServer) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=5)
    server.wait_for(lambda s: any(e.get("exception") for e in s.sentry_events()))
    return [e for e in server.sentry_events() if e.get("exception")]


def test_an_api_error_arrives_with_route_user_request_id_release_and_scrubbed_request(
    sentry_at_rate: RecordingServer, settings: Any, user: User
) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    raw_key = api_key_create(user=user).raw
    client = APIClient(raise_request_exception=False)

    response = client.post(
        "/api/v1/explode/?page=2",
        {"password": "hunter2-correct-horse", "note": "retry after the first failure"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )

    assert response.status_code == 500
    [event] = _error_events(sentry_at_rate)
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["route"] == "failing:explode"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["user"]["id"] == str(user.pk)
    assert event["release"].startswith("phonoglyph@")
    assert event["transaction"] == "/api/v1/explode/"
    assert event["request"]["method"] == "POST"
    assert event["request"]["query_string"] == "page=2"
    assert event["request"]["data"]["note"] == "retry after the first failure"
    assert event["request"]["data"]["password"] == "[Filtered]"
    assert len(event["contexts"]["trace"]["trace_id"]) == 32
    everything = json.dumps(event)
    assert "hunter2-correct-horse" not in everything
    assert raw_key not in everything
    assert user.email not in everything


def test_errors_of_two_untraced_requests_are_not_tied_into_one_trace(
    sentry_at_rate: RecordingServer, settings: Any, user: User
) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")

    first = client.post("/api/v1/explode/", {"n": 1}, format="json")
    second = client.post("/api/v1/explode/", {"n": 2}, format="json")

    sentry_at_rate.wait_for(lambda s: len(_error_events(s)) >= 2)
    by_request = {e["tags"]["request_id"]: e for e in _error_events(sentry_at_rate)}
    traces = {
        by_request[r["X-Request-ID"]]["contexts"]["trace"]["trace_id"] for r in (first, second)
    }
    assert len(traces) == 2


def test_a_page_error_arrives_with_its_route_and_request_id(
    sentry_at_rate: RecordingServer, settings: Any, client: Any
) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    client.raise_request_exception = False

    response = client.get("/explode-page/")

    assert response.status_code == 500
    [event] = _error_events(sentry_at_rate)
    assert event["exception"]["values"][-1]["type"] == "LookupError"
    assert event["tags"]["route"] == "explode-page"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["transaction"] == "/explode-page/"


def test_a_task_error_arrives_with_operation_job_user_and_the_enqueuing_request_id(
    sentry_at_rate: RecordingServer,
) -> None:
    request_token = request_id_var.set("req-enqueued-0042")
    user_token = user_id_var.set(77)
    try:
        result = detect_chords_and_crash.apply(kwargs={"job_id": "job-88"})
    finally:
        user_id_var.reset(user_token)
        request_id_var.reset(request_token)

    assert result.failed()
    event = _error_events(sentry_at_rate)[0]
    assert event["exception"]["values"][-1]["type"] == "ChordDetectorFailed"
    assert event["tags"]["operation"] == "analysis.run"
    assert event["tags"]["job_id"] == "job-88"
    assert event["tags"]["request_id"] == "req-enqueued-0042"
    assert event["user"]["id"] == "77"
    assert event["release"].startswith("phonoglyph@")
    assert event["contexts"]["audio_processing"]["job_id"] == "job-88"


def test_only_sampled_requests_send_a_transaction(
    sentry_at_rate: RecordingServer, api_client: APIClient
) -> None:
    rate = sentry_sdk.get_client().options["traces_sample_rate"]

    for _ in range(20):
        assert api_client.get("/api/v1/me/").status_code == 200

    drain_transactions()
    sentry_sdk.flush(timeout=5)
    sent = len(sentry_at_rate.sentry_items("transaction"))
    if rate == 0.0:
        assert sent == 0
    elif rate == 1.0:
        assert sent == 20
    else:
        assert sent < 20
