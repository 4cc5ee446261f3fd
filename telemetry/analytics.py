"""Product analytics: the one owner of the PostHog client.

PostHog is on exactly when `POSTHOG_API_KEY` is set. Events go through posthog's background
consumer thread over a bounded queue, so a capture never waits on the network; when the queue
is full or the host is down, events are dropped and logged, and the request or task carries on.

Every event declares the properties it may carry in `telemetry.events`. Anything else a
caller passes is dropped before it leaves the process, so a file name, an email or a secret
cannot reach PostHog by accident.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings

# Re-exported: the catalogue is read where the client applies it.
from telemetry.events import EVENT_PROPERTIES as EVENT_PROPERTIES
from telemetry.events import ProductEvent

logger = logging.getLogger(__name__)

PropertyValue = str | int | float | bool | None

# A queue this size absorbs a burst of a few thousand requests while the host is slow; beyond
# that, dropping analytics is better than holding memory for them.
MAX_QUEUE_SIZE = 5000
SEND_TIMEOUT_SECONDS = 5
SHUTDOWN_FLUSH_SECONDS = 5.0

_lock = threading.Lock()
_client: Any = None
_client_pid: int | None = None


def is_enabled() -> bool:
    return bool(settings.POSTHOG_API_KEY)


def _on_send_error(error: Exception, batch: object) -> None:
    logger.warning("posthog batch not delivered: %s", error)


def _get_client() -> Any:
    """Return this process's client, building it on first use and after a fork."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is not None and _client_pid == pid:
        return _client
    with _lock:
        if _client is None or _client_pid != pid:
            from posthog import Posthog

            _client = Posthog(
                settings.POSTHOG_API_KEY,
                host=settings.POSTHOG_HOST,
                max_queue_size=MAX_QUEUE_SIZE,
                timeout=SEND_TIMEOUT_SECONDS,
                # A retry loop holds the consumer thread while events pile up; one try is enough
                # for analytics.
                max_retries=1,
                on_error=_on_send_error,
                disable_geoip=True,
            )
            _client_pid = pid
    return _client


def clean_properties(event: ProductEvent, properties: Mapping[str, object]) -> dict[str, Any]:
    """Keep only the properties `event` declares, with scalar values; log what was dropped."""
    allowed = EVENT_PROPERTIES[event]
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in properties.items():
        if name in allowed and (value is None or isinstance(value, str | int | float | bool)):
            kept[name] = value
        else:
            dropped.append(name)
    if dropped:
        logger.warning("analytics event %s: dropped undeclared properties %s", event, dropped)
    return kept


def capture(event: ProductEvent, *, user_id: int | None, properties: Mapping[str, object]) -> None:
    """Queue `event` for PostHog; never raises and never waits on the network."""
    if not is_enabled():
        return
    try:
        if event not in EVENT_PROPERTIES:
            logger.warning("analytics event %r is not in the catalogue; dropped", event)
            return
        payload = clean_properties(event, properties)
        client = _get_client()
        if user_id is None:
            # Personless: PostHog assigns a random distinct id and creates no person profile.
            payload["$process_person_profile"] = False
            client.capture(event, properties=payload)
        else:
            client.capture(event, distinct_id=str(user_id), properties=payload)
    except Exception:
        logger.exception("analytics event %s could not be queued", event)


def identify(*, user_id: int, properties: Mapping[str, PropertyValue] | None = None) -> None:
    """Attach person properties to `user_id` (ids and flags only); never raises."""
    if not is_enabled():
        return
    try:
        _get_client().set(distinct_id=str(user_id), properties=dict(properties or {}))
    except Exception:
        logger.exception("analytics identify could not be queued")


def flush(timeout_seconds: float = SHUTDOWN_FLUSH_SECONDS) -> None:
    """Send what is queued in this process, waiting at most `timeout_seconds`."""
    client = _client
    if client is None or _client_pid != os.getpid():
        return
    try:
        client.flush(timeout_seconds=timeout_seconds)
    except Exception:
        logger.exception("analytics flush failed")


def shutdown() -> None:
    """Flush and stop this process's client; the next capture builds a new one."""
    global _client, _client_pid
    with _lock:
        client, pid = _client, _client_pid
        _client, _client_pid = None, None
    if client is None or pid != os.getpid():
        return
    try:
        client.flush(timeout_seconds=SHUTDOWN_FLUSH_SECONDS)
        client.shutdown()
    except Exception:
        logger.exception("analytics shutdown failed")


def _forget_client_after_fork() -> None:
    # The parent's consumer thread does not exist in the child and its queue lock may be held;
    # the child builds its own client on first capture instead of touching the inherited one.
    global _client, _client_pid, _lock
    _lock = threading.Lock()
    _client, _client_pid = None, None


os.register_at_fork(after_in_child=_forget_client_after_fork)
atexit.register(shutdown)
