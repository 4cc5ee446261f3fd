"""Monitoring fixtures: Sentry and PostHog pointed at loopback servers, reset after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.conf import settings as django_settings

from telemetry import analytics
from telemetry.sentry import sentry_init
from tests.support.servers import RecordingServer


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def sentry_server(recording_server: RecordingServer) -> Iterator[RecordingServer]:
    """Sentry initialised with a DSN whose host is the recording server (project 42)."""
    sentry_init(
        dsn=f"http://publickey@127.0.0.1:{recording_server.port}/42",
        environment="test",
        release="",
        traces_sample_rate=1.0,
        base_dir=django_settings.BASE_DIR,
    )
    yield recording_server
    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    sentry_sdk.init()


@pytest.fixture
def posthog_server(settings: Any) -> Iterator[RecordingServer]:
    """PostHog on, with the recording server standing in for the PostHog host."""
    server = RecordingServer().start()
    analytics.shutdown()
    settings.POSTHOG_API_KEY = "phc_testproject"
    settings.POSTHOG_HOST = server.url
    yield server
    analytics.shutdown()
    server.stop()
