"""The request monitor measures every API route by its pattern name and reports failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from telemetry.metrics import HTTP_REQUEST_DURATION
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db

SAMPLE_VALUES = {"int": 999999, "str": "sample", "slug": "sample", "uuid": uuid.uuid4()}


def _api_routes(
    patterns: list[Any] | None = None, namespace: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (view name, sample kwargs) for every named pattern in the URL conf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _api_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = getattr(entry.pattern, "converters", {})
            kwargs = {
                name: SAMPLE_VALUES.get(type(converter).__name__.removesuffix("Converter").lower())
                or "sample"
                for name, converter in converters.items()
            }
            yield f"{namespace}{entry.name}", kwargs


def _samples(route: str) -> float:
    total = 0.0
    for metric in HTTP_REQUEST_DURATION.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("route") == route:
                total += sample.value
    return total


def test_every_api_route_is_measured_by_its_pattern_name(api_client: APIClient) -> None:
    # Everything under /api/v1/ is mounted in the "api" namespace, by whichever app.
    routes = [(name, kwargs) for name, kwargs in _api_routes() if name.startswith("api:")]
    assert all(reverse(name, kwargs=kwargs).startswith("/api/v1/") for name, kwargs in routes)
    assert len(routes) >= 4

    unmeasured = []
    for name, kwargs in routes:
        before = _samples(name)
        api_client.get(reverse(name, kwargs=kwargs))
        if _samples(name) != before + 1:
            unmeasured.append(name)
    assert unmeasured == []


def test_api_calls_are_reported_as_events_with_route_status_and_user(
    posthog_server: RecordingServer, api_client: APIClient, user: User
) -> None:
    from telemetry import analytics

    api_client.get(reverse("api:me"))
    api_client.get(reverse("api:api-key-revoke", kwargs={"api_key_id": uuid.uuid4()}))
    analytics.flush(timeout_seconds=10)
    posthog_server.wait_for(lambda s: len(s.posthog_events()) >= 2)

    events = {e["event"]: e for e in posthog_server.posthog_events()}
    success = events["api_call_success"]["properties"]
    assert success["route"] == "api:me"
    assert success["method"] == "GET"
    assert success["status"] == 200
    assert success["duration_ms"] > 0
    assert events["api_call_success"]["distinct_id"] == str(user.pk)
    error = events["api_call_error"]["properties"]
    assert error["route"] == "api:api-key-revoke"
    assert error["status"] == 405
    assert error["error_code"] == "method_not_allowed"


def test_api_events_are_not_sent_when_sampling_is_zero(
    posthog_server: RecordingServer, settings: Any, api_client: APIClient, user: User
) -> None:
    from telemetry import analytics
    from telemetry.reporting import emit_event

    settings.PHONOGLYPH_API_EVENT_SAMPLE_RATE = 0.0
    api_client.get(reverse("api:me"))
    emit_event("media_deleted", user_id=user.pk, properties={"media_id": 1})
    analytics.flush(timeout_seconds=10)
    posthog_server.wait_for(lambda s: bool(s.posthog_events()))

    assert [e["event"] for e in posthog_server.posthog_events()] == ["media_deleted"]


def test_a_5xx_answer_without_an_exception_is_sent_to_sentry(
    sentry_server: RecordingServer, settings: Any, user: User
) -> None:
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")

    assert client.get("/api/v1/unavailable/").status_code == 503

    sentry_sdk.flush(timeout=5)
    sentry_server.wait_for(lambda s: bool(s.sentry_events()))
    event = sentry_server.sentry_events()[0]
    assert event["message"] == "GET failing:unavailable answered 503"
    assert event["tags"]["route"] == "failing:unavailable"
