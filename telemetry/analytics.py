"""Product analytics: the one owner of the PostHog connection.

PostHog is on exactly when `POSTHOG_API_KEY` is set. A capture appends the event to a bounded
in-process buffer and returns; one background thread per process posts the buffer to PostHog's
`/batch/` endpoint when a batch is full or `FLUSH_INTERVAL_SECONDS` has passed, whichever comes
first. The thread is woken only by a full batch, never per event, and posts outside the lock,
so a slow or stalled host delays no request: the buffer fills, and what does not fit is dropped
and counted (`phonoglyph_analytics_events_dropped_total`), never waited for. What is buffered is
sent at exit (atexit, and Celery's worker shutdown through `telemetry.celery_signals`).

Every event declares the properties it may carry in `telemetry.events`. Anything else a
caller passes is dropped before it leaves the process, so a file name, an email or a secret
cannot reach PostHog by accident.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

# Re-exported: the catalogue is read where the client applies it.
from telemetry.events import EVENT_PROPERTIES as EVENT_PROPERTIES
from telemetry.events import ProductEvent
from telemetry.metrics import ANALYTICS_EVENTS_DROPPED

logger = logging.getLogger(__name__)

PropertyValue = str | int | float | bool | None

# A buffer this size absorbs a burst of a few thousand requests while the host is slow; beyond
# that, dropping analytics is better than holding memory for them.
MAX_QUEUE_SIZE = 5000
# PostHog accepts up to 20 MB a batch; a few hundred small events stay far below that.
BATCH_SIZE = 100
FLUSH_INTERVAL_SECONDS = 2.0
SEND_TIMEOUT_SECONDS = 5
SHUTDOWN_FLUSH_SECONDS = 5.0
PERSON_SET = "$set"

# (event, distinct id or None for personless, properties, unix time): the request thread does
# no more than build this; the catalogue check, ids, timestamps and JSON are the sending
# thread's.
_Pending = tuple[str, str | None, dict[str, Any], float]


class BatchSender:
    """A bounded buffer of events and the one thread that posts them to PostHog in batches."""

    def __init__(self, *, api_key: str, host: str) -> None:
        self.api_key = api_key
        self.host = host
        self.pending: deque[_Pending] = deque()
        self.wake = threading.Condition(threading.Lock())
        self.stopping = False
        self.flush_requested = False
        self.in_flight = 0
        self.thread: threading.Thread | None = None
        self.session: Any = None

    def put(self, item: _Pending) -> None:
        """Buffer `item`; drop and count it when the buffer is full. Never blocks on the network."""
        pending = self.pending
        if len(pending) >= MAX_QUEUE_SIZE:
            ANALYTICS_EVENTS_DROPPED.labels(reason="buffer_full").inc()
            return
        pending.append(item)
        if self.thread is None:
            self._start()
        elif len(pending) == BATCH_SIZE:
            with self.wake:
                self.wake.notify()

    def _start(self) -> None:
        with self.wake:
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self._run, name="posthog-batches", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while True:
            with self.wake:
                interval_over = False
                if (
                    not self.stopping
                    and not self.flush_requested
                    and (len(self.pending) < BATCH_SIZE)
                ):
                    interval_over = not self.wake.wait(FLUSH_INTERVAL_SECONDS)
                stopping = self.stopping
                everything = stopping or self.flush_requested or interval_over
                self.flush_requested = False
            self._send_batches(everything=everything)
            if stopping:
                return

    def _send_batches(self, *, everything: bool) -> None:
        """Post the full batches; with `everything`, the partial one left after them too.

        A partial batch otherwise waits for the interval or for the events that fill it:
        posting whatever arrived during the previous post would make batches the smaller (and
        posts the more frequent, each costing the request threads the interpreter lock) the
        faster the host answers.
        """
        while len(self.pending) >= BATCH_SIZE or (everything and self.pending):
            # Counted before the pop, so a flush never sees an empty buffer and nothing in flight
            # while a batch is between the two.
            self.in_flight = 1
            batch: list[_Pending] = []
            while self.pending and len(batch) < BATCH_SIZE:
                batch.append(self.pending.popleft())
            try:
                self._post(batch)
            finally:
                self.in_flight = 0

    def _post(self, batch: list[_Pending]) -> None:
        from posthog.request import batch_post
        from posthog.version import VERSION

        if self.session is None:
            import requests

            self.session = requests.Session()
        declared = [item for item in map(_declared, batch) if item is not None]
        if not declared:
            return
        events = [
            {
                "event": event,
                # Personless events get a random id; PostHog creates no person for them.
                "distinct_id": distinct_id or str(uuid.uuid4()),
                "properties": {**properties, "$lib": "posthog-python", "$lib_version": VERSION},
                "timestamp": datetime.fromtimestamp(at, tz=UTC).isoformat(),
                "uuid": str(uuid.uuid4()),
                "type": "capture",
            }
            for event, distinct_id, properties, at in declared
        ]
        try:
            batch_post(
                self.api_key,
                self.host,
                gzip=False,
                timeout=SEND_TIMEOUT_SECONDS,
                session=self.session,
                batch=events,
            )
        except Exception as error:
            ANALYTICS_EVENTS_DROPPED.labels(reason="send_failed").inc(len(events))
            logger.warning("posthog batch of %s events not delivered: %s", len(events), error)

    def flush(self, timeout_seconds: float) -> None:
        """Ask the thread to send everything now; wait at most `timeout_seconds` for it."""
        if self.thread is None:
            return
        with self.wake:
            self.flush_requested = True
            self.wake.notify()
        deadline = time.monotonic() + timeout_seconds
        while (self.pending or self.in_flight) and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self, timeout_seconds: float) -> None:
        """Send what is buffered and end the thread, waiting at most `timeout_seconds`."""
        if self.thread is None:
            return
        with self.wake:
            self.stopping = True
            self.wake.notify()
        self.thread.join(timeout_seconds)


_lock = threading.Lock()
_client: BatchSender | None = None
_client_pid: int | None = None


def is_enabled() -> bool:
    return bool(settings.POSTHOG_API_KEY)


def _get_client() -> BatchSender:
    """Return this process's sender, building it on first use and after a fork."""
    global _client, _client_pid
    pid = os.getpid()
    client = _client
    if client is not None and _client_pid == pid:
        return client
    with _lock:
        if _client is None or _client_pid != pid:
            _client = BatchSender(api_key=settings.POSTHOG_API_KEY, host=settings.POSTHOG_HOST)
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
    """Buffer `event` for PostHog; never raises and never waits on the network.

    The event is checked against the catalogue by the sending thread, not here: the request
    thread only copies the properties and appends.
    """
    if not is_enabled():
        return
    try:
        _get_client().put(
            (event, None if user_id is None else str(user_id), dict(properties), time.time())
        )
    except Exception:
        logger.exception("analytics event %s could not be queued", event)


def _declared(item: _Pending) -> _Pending | None:
    """A captured event with only its declared properties; None for an event not in the
    catalogue. Person updates (`$set`) pass as they are: `identify` builds them itself."""
    event, distinct_id, properties, at = item
    if event == PERSON_SET:
        return item
    if event not in EVENT_PROPERTIES:
        logger.warning("analytics event %r is not in the catalogue; dropped", event)
        return None
    payload = clean_properties(event, properties)  # type: ignore[arg-type]  # checked above
    if distinct_id is None:
        payload["$process_person_profile"] = False
    return event, distinct_id, payload, at


def identify(*, user_id: int, properties: Mapping[str, PropertyValue] | None = None) -> None:
    """Attach person properties to `user_id` (ids and flags only); never raises."""
    if not is_enabled():
        return
    try:
        _get_client().put((PERSON_SET, str(user_id), {"$set": dict(properties or {})}, time.time()))
    except Exception:
        logger.exception("analytics identify could not be queued")


def flush(timeout_seconds: float = SHUTDOWN_FLUSH_SECONDS) -> None:
    """Send what is buffered in this process, waiting at most `timeout_seconds`."""
    client = _client
    if client is None or _client_pid != os.getpid():
        return
    try:
        client.flush(timeout_seconds)
    except Exception:
        logger.exception("analytics flush failed")


def shutdown() -> None:
    """Send what is buffered and stop this process's sender; the next capture builds a new one."""
    global _client, _client_pid
    with _lock:
        client, pid = _client, _client_pid
        _client, _client_pid = None, None
    if client is None or pid != os.getpid():
        return
    try:
        client.stop(SHUTDOWN_FLUSH_SECONDS)
    except Exception:
        logger.exception("analytics shutdown failed")


def _forget_client_after_fork() -> None:
    # The parent's sending thread does not exist in the child and its lock may be held; the
    # child builds its own sender on first capture instead of touching the inherited one.
    global _client, _client_pid, _lock
    _lock = threading.Lock()
    _client, _client_pid = None, None


os.register_at_fork(after_in_child=_forget_client_after_fork)
atexit.register(shutdown)
