"""Trace context: one sampling decision per request, carried to tasks and the engine's stages.

A request is traced or not from its first line (`decide`), following a decision made upstream
(`sentry-trace` from the browser SDK, or W3C `traceparent` from any OpenTelemetry client) and
otherwise drawing at the configured rate. The decision travels to Celery tasks as a W3C
`traceparent` task header (see `telemetry.celery_signals`), so a traced request and the job it
starts are one trace, kept whole or dropped whole. `stage_spans` turns the engine's progress
callback into one span per stage, so a slow job can be read stage by stage.

Untraced work pays for none of this: no transaction, no span, no scope copy. A traced request
pays for little more: `RequestTrace` records its ids and its start and end while it runs, and
once the WSGI server has closed the delivered response (`finish_after_response`) that record
is written to the relay process (`telemetry.trace_relay`), which builds the transaction,
scrubs it and sends it. Building and sending cost about 2 ms of CPU per transaction; done by a
thread of the worker, they would hold the interpreter lock while the next requests run. Where
the relay cannot be had, the worker builds and sends the transaction itself. Work a server
never closes is handed to one background thread instead (`_Sender`), so nothing is held
without bound.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import random
import re
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

from telemetry import trace_relay

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

# Reporting no closed response ran, waiting for the background thread; beyond this (the thread
# starved for seconds) it is dropped rather than held.
MAX_PENDING_REPORTS = 1000
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
        return cls(new_trace_id(), new_span_id(), sampled)


def new_trace_id() -> str:
    # Ids must be unique, not secret (W3C Trace Context asks for randomness, not for
    # unpredictability): the process's random generator serves, without a system call.
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


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

    Recording costs the request two ids and a clock read; once the response has been delivered
    the record (`record`) goes to the relay process (`telemetry.trace_relay`), which builds the
    transaction and sends it, so the traced tenth of requests costs its worker almost nothing.
    """

    __slots__ = (
        "baggage",
        "duration",
        "method",
        "name",
        "parent",
        "request_id",
        "route",
        "span",
        "started",
        "started_at",
        "status",
        "url",
    )

    def __init__(self, parent: TraceParent | None, baggage: str | None) -> None:
        trace_id = parent.trace_id if parent is not None else new_trace_id()
        self.span = TraceParent(trace_id, new_span_id(), True)
        self.parent = parent
        self.baggage = baggage
        self.started_at = time.time()
        self.started = time.perf_counter()
        self.duration = 0.0
        self.name = ""
        self.status: int | None = None
        self.route: str | None = None
        self.request_id: str | None = None
        self.url = ""
        self.method = ""

    def end(
        self,
        *,
        name: str,
        status: int | None,
        route: str | None,
        request_id: str | None,
        url: str,
        method: str,
    ) -> None:
        """Close the record: the route's path and name, the HTTP status (None: it raised), and
        what the transaction shows of the request."""
        self.duration = time.perf_counter() - self.started
        self.name = name
        self.status = status
        self.route = route
        self.request_id = request_id
        self.url = url
        self.method = method

    def record(self) -> TraceRecord:
        """What the transaction is built from, in plain JSON types."""
        return {
            "trace_id": self.span.trace_id,
            "span_id": self.span.span_id,
            "parent": None if self.parent is None else self.parent.to_sentry(),
            "baggage": self.baggage,
            "name": self.name,
            "started_at": self.started_at,
            "duration": self.duration,
            "status": self.status,
            "tags": {"request_id": self.request_id, "route": self.route},
            "request": {"url": self.url, "method": self.method},
        }


# A finished request as the relay receives it: see `RequestTrace.record`.
TraceRecord = dict[str, Any]


def send_record(record: TraceRecord) -> None:
    """Build a request's transaction from its record and hand it to this process's Sentry client."""
    parent = parse_sentry_trace(record["parent"]) if record["parent"] else None
    request = record["request"]
    started_at = float(record["started_at"])
    status = record["status"]
    with sentry_sdk.isolation_scope() as scope:
        for name, value in record["tags"].items():
            if value is not None:
                scope.set_tag(name, value)
        scope.add_event_processor(
            lambda event, hint: {**event, "request": {**event.get("request", {}), **request}}
        )
        transaction = start_traced(
            parent=parent,
            op=OP.HTTP_SERVER,
            name=record["name"],
            source="route",
            baggage=record["baggage"],
        )
        transaction.trace_id = record["trace_id"]
        transaction.span_id = record["span_id"]
        transaction.start_timestamp = datetime.fromtimestamp(started_at, UTC)
        sentry_sdk.start_transaction(transaction)
        if status is None:
            transaction.set_status("internal_error")
        else:
            transaction.set_http_status(int(status))
        transaction.finish(scope, end_timestamp=started_at + float(record["duration"]))


def _deliver(record: TraceRecord) -> None:
    """To the relay process when it takes it; else built and sent by this process."""
    if not trace_relay.submit(record):
        send_record(record)


# Reporting that waits for the response to be delivered: it costs the worker the same, but no
# client waits for it.
Work = Callable[[], None]


def _run(work: Work) -> None:
    try:
        work()
    except Exception:
        logger.exception("reporting after the response failed")


class _Sender:
    """The one thread of a process that runs the reporting no closed response ran."""

    def __init__(self) -> None:
        self.pending: queue.Queue[Work] = queue.Queue(MAX_PENDING_REPORTS)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def submit(self, work: Work) -> None:
        try:
            self.pending.put_nowait(work)
        except queue.Full:
            logger.debug("reporting dropped: %s still waiting", self.pending.qsize())
            return
        if self.thread is None:
            with self.lock:
                if self.thread is None:
                    self.thread = threading.Thread(
                        target=self._run, name="reporting-after-response", daemon=True
                    )
                    self.thread.start()

    def _run(self) -> None:
        while True:
            work = self.pending.get()
            try:
                _run(work)
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
    """Wait (at most `timeout_seconds`) until every recorded trace has been handed to Sentry.

    The relay process is stopped once it has sent what it holds; the next traced request
    starts a new one.
    """
    deadline = time.monotonic() + timeout_seconds
    hand_over_unfinished()
    _sender.drain(timeout_seconds)
    trace_relay.stop(max(0.0, deadline - time.monotonic()))


class _AfterResponse(threading.local):
    """The reporting this thread's current request left to run once it is delivered."""

    def __init__(self) -> None:
        self.pending: list[Work] = []


_after_response = _AfterResponse()


def after_response(work: Work) -> None:
    """Run `work` once the current request's response is delivered (`finish_after_response`)."""
    _after_response.pending.append(work)


def send_after_response(trace: RequestTrace) -> None:
    """Deliver `trace` once the response is delivered; call it as the request ends."""
    after_response(functools.partial(_deliver, trace.record()))


def send_in_background(trace: RequestTrace) -> None:
    """Deliver `trace` from the background thread: no response will be closed for it."""
    _sender.submit(functools.partial(_deliver, trace.record()))


def finish_after_response() -> None:
    """Run what the request just delivered left for after its response.

    Connected to Django's `request_finished`, which the WSGI server triggers by closing the
    response after its last byte is written, in the thread that served it.
    """
    pending, _after_response.pending = _after_response.pending, []
    for work in pending:
        _run(work)


def hand_over_unfinished() -> None:
    """Give the background thread what an earlier request on this thread left undone.

    Called as a request starts: a server that never closed the previous response (it should)
    must not make this request wait for the previous one's reporting, nor lose it.
    """
    if _after_response.pending:
        pending, _after_response.pending = _after_response.pending, []
        for work in pending:
            _sender.submit(work)
