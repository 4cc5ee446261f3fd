"""Errors reach Sentry (a loopback server standing in for the DSN host) with their context."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sentry_sdk
from celery import shared_task
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from telemetry.reporting import capture_processing_error
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db


class DecoderError(RuntimeError):
    pass


@shared_task(name="tests.telemetry.analyse_broken_file")
def analyse_broken_file(*, job_id: str, media_id: int) -> None:
    try:
        raise DecoderError("truncated MPEG frame")
    except DecoderError as error:
        capture_processing_error(error, operation="analysis.run", job_id=job_id, media_id=media_id)
        raise


def _events(server: RecordingServer) -> list[dict[str, Any]]:
    sentry_sdk.flush(timeout=5)
    server.wait_for(lambda s: bool(s.sentry_events()))
    return server.sentry_events()


@pytest.fixture
def failing_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"


def _client(user: User) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    return client


def test_exception_in_a_media_api_view_arrives_with_operation_tag_and_audio_context(
    sentry_server: RecordingServer, failing_urls: None, user: User
) -> None:
    response = _client(user).post("/api/v1/media/explode/", {"title": "x"}, format="json")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    events = _events(sentry_server)
    event = next(e for e in events if e.get("exception"))
    assert event["exception"]["values"][-1]["type"] == "AudioDecodeFailed"
    assert event["tags"]["operation"] == "api.failing:media-explode"
    assert event["contexts"]["audio_processing"]["operation"] == "api.failing:media-explode"
    assert event["contexts"]["audio_processing"]["user_id"] == user.pk
    assert event["user"]["id"] == str(user.pk)
    assert event["environment"] == "test"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert len([e for e in events if e.get("exception")]) == 1


def test_upload_endpoint_errors_arrive_without_the_request_body(
    sentry_server: RecordingServer, failing_urls: None, user: User
) -> None:
    _client(user).post("/api/v1/media/explode/", {"audio_note": "private lyrics"}, format="json")

    event = next(e for e in _events(sentry_server) if e.get("exception"))
    assert "data" not in event.get("request", {})
    assert "private lyrics" not in json.dumps(event)


def test_exception_in_a_celery_task_arrives_with_operation_tag_and_audio_context(
    sentry_server: RecordingServer,
) -> None:
    result = analyse_broken_file.apply(kwargs={"job_id": "job-77", "media_id": 5})

    assert result.failed()
    event = next(e for e in _events(sentry_server) if e.get("exception"))
    assert event["exception"]["values"][-1]["type"] == "DecoderError"
    assert event["tags"]["operation"] == "analysis.run"
    assert event["tags"]["job_id"] == "job-77"
    context = event["contexts"]["audio_processing"]
    assert context["job_id"] == "job-77"
    assert context["media_id"] == 5


def test_request_with_secrets_arrives_scrubbed(
    sentry_server: RecordingServer, failing_urls: None, user: User
) -> None:
    raw_key = api_key_create(user=user).raw
    client = APIClient(raise_request_exception=False)
    client.cookies["sessionid"] = "cookie-session-value-123"
    response = client.post(
        "/api/v1/explode/?X-Amz-Signature=deadbeefsignature&X-Amz-Credential=AKIAEXAMPLE",
        {
            "password": "hunter2-correct-horse",
            "api_key": raw_key,
            "note": f"my key is {raw_key}",
        },
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
        HTTP_X_API_KEY=raw_key,
    )

    assert response.status_code == 500
    sentry_sdk.capture_message(f"key leaked into a message: {raw_key}")
    _events(sentry_server)
    sentry_server.wait_for(lambda s: len(s.sentry_events()) >= 2)
    event = next(e for e in sentry_server.sentry_events() if e.get("exception"))
    assert event["request"]["data"]["password"] == "[Filtered]"
    assert event["request"]["data"]["api_key"] == "[Filtered]"
    everything = json.dumps([r.body.decode("utf-8", "replace") for r in sentry_server.received])
    for secret in (
        "hunter2-correct-horse",
        raw_key,
        raw_key[4:],
        "cookie-session-value-123",
        "deadbeefsignature",
        "AKIAEXAMPLE",
    ):
        assert secret not in everything
    assert "phg_[Filtered]" in everything
