"""PostHog events leave in batches from one thread; a stalled host never delays a request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import User
from telemetry import analytics
from telemetry.reporting import emit_event
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db


class StalledHost:
    """Accepts connections and reads nothing, answers nothing: a host that hangs."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def stalled_posthog(settings: Any) -> Iterator[StalledHost]:
    host = StalledHost()
    analytics.shutdown()
    settings.POSTHOG_API_KEY = "phc_testproject"
    settings.POSTHOG_HOST = host.url
    yield host
    # Closing the host first ends the sending thread's wait, so shutdown is quick.
    host.close()
    analytics.shutdown()


def _dropped(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "phonoglyph_analytics_events_dropped_total", {"reason": reason}
    )
    return value or 0.0


def test_events_are_posted_in_batches_not_one_request_each(
    posthog_server: RecordingServer, user: User
) -> None:
    for media_id in range(2 * analytics.BATCH_SIZE + 10):
        emit_event("media_deleted", user_id=user.pk, properties={"media_id": media_id})

    analytics.flush(timeout_seconds=10)

    posts = posthog_server.requests_to("/batch")
    sizes = [len(post.json()["batch"]) for post in posts]
    assert sum(sizes) == 2 * analytics.BATCH_SIZE + 10
    assert len(posts) <= 5
    assert max(sizes) == analytics.BATCH_SIZE
    assert {e["properties"]["media_id"] for e in posthog_server.posthog_events()} == set(
        range(2 * analytics.BATCH_SIZE + 10)
    )


def test_a_steady_stream_of_events_leaves_in_full_batches(
    posthog_server: RecordingServer, user: User
) -> None:
    total = 10 * analytics.BATCH_SIZE
    for media_id in range(total):
        emit_event("media_deleted", user_id=user.pk, properties={"media_id": media_id})
        if media_id % 5 == 0:
            # Events keep arriving while a batch is being posted, as under steady traffic.
            time.sleep(0.001)

    analytics.flush(timeout_seconds=10)

    sizes = [len(post.json()["batch"]) for post in posthog_server.requests_to("/batch")]
    assert sum(sizes) == total
    assert sizes[:-1] == [analytics.BATCH_SIZE] * (len(sizes) - 1)


def test_a_stalled_host_delays_no_request_and_overflow_is_dropped_and_counted(
    stalled_posthog: StalledHost, api_client: APIClient, user: User
) -> None:
    # A full batch sends the thread to the stalled host, where it waits for an answer.
    for media_id in range(analytics.BATCH_SIZE):
        emit_event("media_deleted", user_id=user.pk, properties={"media_id": media_id})
    deadline = time.monotonic() + 5
    while not stalled_posthog.accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stalled_posthog.accepted, "the sending thread never reached the host"

    started = time.perf_counter()
    statuses = [api_client.get(reverse("api:me")).status_code for _ in range(20)]
    requests_took = time.perf_counter() - started

    dropped_before = _dropped("buffer_full")
    started = time.perf_counter()
    for media_id in range(analytics.MAX_QUEUE_SIZE + 50):
        emit_event("media_deleted", user_id=user.pk, properties={"media_id": media_id})
    overflow_took = time.perf_counter() - started

    assert statuses == [200] * 20
    # The send waits SEND_TIMEOUT_SECONDS for the host; no request waited any part of it.
    assert requests_took < analytics.SEND_TIMEOUT_SECONDS
    assert overflow_took < analytics.SEND_TIMEOUT_SECONDS
    assert _dropped("buffer_full") - dropped_before >= 50
