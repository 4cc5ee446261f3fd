"""Telemetry fixtures: PostHog pointed at a loopback server, its client reset after each test.

`recording_server` and `sentry_server` live in `tests/conftest.py`: monitoring's alert
deliveries to Sentry use them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from telemetry import analytics
from tests.support.servers import RecordingServer


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
