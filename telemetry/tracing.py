"""Trace context: one sampling decision per request, carried to tasks and the engine's stages.

A request is traced or not from its first line (`decide`), following a decision made upstream
(`sentry-trace` from the browser SDK, or W3C `traceparent` from any OpenTelemetry client) and
otherwise drawing at the configured rate. The decision travels to Celery tasks as a W3C
`traceparent` task header (see `telemetry.celery_signals`), so a traced request and the job it
starts are one trace, kept whole or dropped whole. `stage_spans` turns the engine's progress
callback into one span per stage, so a slow job can be read stage by stage.

Untraced work pays for none of this: no transaction, no span, no scope copy. A traced request
pays for little more: `RequestTrace` records its ids and its start and end while it runs, and
the transaction is built from that record, serialised, scrubbed and queued (about 0.5 ms the
request would otherwise wait for) once the response has been delivered
(`finish_after_response`, run when the WSGI server closes the response). That is not left to
a background thread: a thread sending holds the interpreter lock while the next request runs,
which only moves the wait to that request. Work a server never closes is handed to one
background thread instead (`_Sender`), so nothing is held without bound.
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sentry_sdk
from sentry_sdk.consts import OP
from sentry_sdk.tracing import Span, Transaction

logger = logging.getLogger(__name__)

TRACEPARENT_HEADER = "traceparent"
SENTRY_TRACE_HEADER = "sentry-trace"

_W3C_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_SENTRY_TRACE = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?$")

# Probes, scrapes and files: tracing them would spend the sample on what tells nothing.
UNTRACED_PATH_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico")

# The engine's and the job runner's progress stages, by the span name a reader looks for.
STAGE_NAMES = {
    "fetching": "fetch",
    "probing": "decode",
    "decoding": "decode",
    "rhythm": "rhythm",
    "loudness": "loudness",
    "key": "tonal",
    "structure": "structure",
    "storing": "store",
}
STAGE_OP = "engine.stage"

# Transactions waiting to be sent; beyond this (the sending thread starved for seconds) traces
# are dropped rather than held.
MAX_PENDING_TRANSACTIONS = 1000
SHUTDOWN_DRAIN_SECONDS = 2.0

ProgressCallback = Callable[[str, int], None]


@dataclass(frozen=True)
class TraceParent:
    """Where a unit of work hangs in a trace; `sampled` None means the caller left it to us."""

    trace_id: str
    span_id: str
    sampled: bool | None

    def to_w3c(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def to_sentry(self) -> str:
        if self.sampled is None:
            return f"{self.trace_id}-{self.span_id}"
        return f"{self.trace_id}-{self.span_id}-{int(self.sampled)}"

    @classmethod
    def new_root(cls, *, sampled: bool | None = None) -> TraceParent:
        return cls(secrets.token_hex(16), secrets.token_hex(8), sampled)


def parse_traceparent(value: object) -> TraceParent | None:
    """A W3C `traceparent` header (version 00), or None when absent or malformed."""
    if not isinstance(value, str):
        return None
    match = _W3C_TRACEPARENT.match(value.strip().lower())
    if match is None or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return TraceParent(match[1], match[2], bool(int(match[3], 16) & 1))


def parse_sentry_trace(value: object) -> TraceParent | None:
    """A Sentry `sentry-trace` header, or None when absent or malformed."""
    if not isinstance(value, str):
        return None
    match = _SENTRY_TRACE.match(value.strip())
    if match is None:
        return None
    return TraceParent(match[1], match[2], None if match[3] is None else match[3] == "1")


def incoming_parent(meta: dict[str, Any]) -> TraceParent | None:
    """The trace a request continues, from its WSGI environ; Sentry's header wins over W3C's."""
    sentry_trace = meta.get("HTTP_SENTRY_TRACE")
    if sentry_trace:
        return parse_sentry_trace(sentry_trace)
    traceparent = meta.get("HTTP_TRACEPARENT")
    if traceparent:
        return parse_traceparent(traceparent)
    return None


def decide(*, path: str, parent: TraceParent | None, rate: float) -> bool:
    """Whether a request is traced: the caller's decision when it made one, else `rate`."""
    if parent is not None and parent.sampled is not None:
        return parent.sampled
    if rate <= 0 or path.startswith(UNTRACED_PATH_PREFIXES):
        return False
    return rate >= 1 or random.random() < rate  # noqa: S311  # sampling, not security


def start_traced(
    *, parent: TraceParent | None, op: str, name: str, source: str, baggage: str | None = None
) -> Transaction:
    """A transaction already decided to be sampled, continuing `parent` when there is one.

    The caller enters it (`with`) inside an isolation scope of its own.
    """
    if parent is None:
        # A new trace: the transaction makes its own ids, with no propagation context to parse.
        return Transaction(op=op, name=name, source=source, sampled=True)
    headers = {SENTRY_TRACE_HEADER: parent.to_sentry()}
    if baggage:
        headers["baggage"] = baggage
    transaction = sentry_sdk.continue_trace(headers, op=op, name=name, source=source)
    # The decision was made once, before any of this was paid for; the sampler is not asked.
    transaction.sampled = True
    return transaction


def current_parent() -> TraceParent | None:
    """The active span as a parent for work started now, or None outside any trace."""
    span = sentry_sdk.get_current_span()
    if span is None or span.sampled is None:
        return None
    return TraceParent(span.trace_id, span.span_id, span.sampled)


class _StageSpans:
    """A progress callback that keeps one child span open per stage of `transaction`."""

    def __init__(self, progress: ProgressCallback, transaction: Span) -> None:
        self.progress = progress
        self.transaction = transaction
        self.name: str | None = None
        self.span: Span | None = None

    def __call__(self, stage: str, percent: int) -> None:
        name = STAGE_NAMES.get(stage)
        if name is not None and name != self.name:
            self.close()
            self.name = name
            self.span = self.transaction.start_child(op=STAGE_OP, name=name)
        self.progress(stage, percent)

    def close(self) -> None:
        if self.span is not None:
            self.span.finish()
            self.span = None


@contextmanager
def stage_spans(progress: ProgressCallback) -> Iterator[ProgressCallback]:
    """Wrap a job's progress callback so each named stage becomes a span of the current trace.

    Outside a sampled trace the callback is handed back untouched. A stage's span ends when
    the next stage starts or the block exits, whichever comes first.
    """
    span = sentry_sdk.get_current_span()
    if span is None or not span.sampled:
        yield progress
        return
    spans = _StageSpans(progress, span)
    try:
        yield spans
    finally:
        spans.close()


class RequestTrace:
    """A traced request as it runs: its place in the trace and two clock readings.

    Recording costs the request two ids and a clock read; the transaction is built from the
    record and sent (`send`) once the response has been delivered, so the traced tenth of
    requests answers as fast as the rest.
    """

    __slots__ = (
        "baggage",
        "duration",
        "name",
        "parent",
        "span",
        "started",
        "started_at",
        "status",
    )

    def __init__(self, parent: TraceParent | None, baggage: str | None) -> None:
        trace_id = parent.trace_id if parent is not None else secrets.token_hex(16)
        self.span = TraceParent(trace_id, secrets.token_hex(8), True)
        self.parent = parent
        self.baggage = baggage
        self.started_at = time.time()
        self.started = time.perf_counter()
        self.duration = 0.0
        self.name = ""
        self.status: int | None = None

    def end(self, *, name: str, status: int | None) -> None:
        """Close the record with the route's name and the HTTP status (None: it raised)."""
        self.name = name
        self.duration = time.perf_counter() - self.started
        self.status = status

    def send(self) -> None:
        """Build the request's transaction from the record and hand it to Sentry."""
        with sentry_sdk.isolation_scope() as scope:
            transaction = start_traced(
                parent=self.parent,
                op=OP.HTTP_SERVER,
                name=self.name,
                source="route",
                baggage=self.baggage,
            )
            transaction.trace_id = self.span.trace_id
            transaction.span_id = self.span.span_id
            transaction.start_timestamp = datetime.fromtimestamp(self.started_at, UTC)
            sentry_sdk.start_transaction(transaction)
            if self.status is None:
                transaction.set_status("internal_error")
            else:
                transaction.set_http_status(self.status)
            transaction.finish(scope, end_timestamp=self.started_at + self.duration)


# The trace and the context it ran in: the copied context carries `current_request`, so the
# event processors see what they would have seen while the request ran.
_Pending = tuple[contextvars.Context, RequestTrace]


def _send(item: _Pending) -> None:
    context, trace = item
    try:
        context.run(trace.send)
    except Exception:
        logger.exception("a transaction could not be sent")


class _Sender:
    """The one thread of a process that sends the traces no closed response sent."""

    def __init__(self) -> None:
        self.pending: queue.Queue[_Pending] = queue.Queue(MAX_PENDING_TRANSACTIONS)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def submit(self, item: _Pending) -> None:
        try:
            self.pending.put_nowait(item)
        except queue.Full:
            logger.debug("transaction dropped: %s still waiting to be sent", self.pending.qsize())
            return
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(
                        target=self._run, name="sentry-transactions", daemon=True
                    )
                    self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.pending.get()
            try:
                _send(item)
            finally:
                self.pending.task_done()

    def drain(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while self.pending.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)


_sender = _Sender()


def _new_sender_after_fork() -> None:
    # The parent's thread does not exist in the child; its queue may hold the parent's work.
    global _sender
    _sender = _Sender()


os.register_at_fork(after_in_child=_new_sender_after_fork)


def drain_transactions(timeout_seconds: float = SHUTDOWN_DRAIN_SECONDS) -> None:
    """Wait (at most `timeout_seconds`) until every recorded trace is handed to Sentry."""
    hand_over_unfinished()
    _sender.drain(timeout_seconds)


class _AfterResponse(threading.local):
    """The traces this thread's current request recorded, to send once it is delivered."""

    def __init__(self) -> None:
        self.pending: list[_Pending] = []


_after_response = _AfterResponse()


def send_after_response(trace: RequestTrace) -> None:
    """Send `trace` once the response is delivered; call it while the request is current."""
    _after_response.pending.append((contextvars.copy_context(), trace))


def send_in_background(trace: RequestTrace) -> None:
    """Send `trace` from the background thread: no response will be closed for it."""
    _sender.submit((contextvars.copy_context(), trace))


def finish_after_response() -> None:
    """Send the traces of the request just delivered.

    Connected to Django's `request_finished`, which the WSGI server triggers by closing the
    response after its last byte is written, in the thread that served it.
    """
    pending, _after_response.pending = _after_response.pending, []
    for item in pending:
        _send(item)


def hand_over_unfinished() -> None:
    """Give the background thread what an earlier request on this thread left unsent.

    Called as a request starts: a server that never closed the previous response (it should)
    must not make this request wait for the previous one's sending, nor lose it.
    """
    if _after_response.pending:
        pending, _after_response.pending = _after_response.pending, []
        for item in pending:
            _sender.submit(item)
