"""Celery instrumentation: correlated logs, task metrics, Sentry and PostHog lifecycles.

Imported by `phonoglyph.celery` so the receivers are connected before a worker configures
logging; nothing here touches Django settings at import time.

- The request id of whatever enqueued a task travels in its message headers and is restored,
  with the job id, into the log context of the task run.
- Every task run is counted by outcome and timed.
- The trace of whatever enqueued a task travels as a W3C `traceparent` header; the task run
  continues it (traced if and only if its publisher was), so a traced request and the job it
  started read as one trace. A task with no such header (beat's) is decided at the rate.
- Sentry starts with the worker (settings call `sentry_init` when the worker loads them) and is
  flushed, like PostHog, when a worker process exits.
"""

from __future__ import annotations

import inspect
import logging
import logging.config
import time
from collections.abc import Sequence
from contextlib import ExitStack
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

import sentry_sdk
from celery import signals
from sentry_sdk.consts import OP

from core.logging import job_id_var, request_id_var, user_id_var
from telemetry import tracing
from telemetry.context import current_request
from telemetry.metrics import CELERY_TASK_DURATION, CELERY_TASKS

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "phonoglyph_request_id"
USER_ID_HEADER = "phonoglyph_user_id"
SHUTDOWN_FLUSH_SECONDS = 2.0

OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


@dataclass
class _Run:
    started: float
    request_token: Token[str | None]
    user_token: Token[int | None]
    job_token: Token[str | None]
    trace: ExitStack


# The trace of the task run in progress, passed on to what it enqueues when it is not sampled
# (a sampled one is the current span).
_task_trace: ContextVar[tracing.TraceParent | None] = ContextVar(
    "telemetry_task_trace", default=None
)


# Keyed by task id: prerun and postrun of one run happen in the same worker thread.
_runs: dict[str, _Run] = {}


@signals.before_task_publish.connect
def add_request_context(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Put the publishing request's id (and user id) in the task message headers."""
    if headers is None:
        return
    request_id = request_id_var.get()
    if request_id is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)
    user_id = user_id_var.get()
    if user_id is not None:
        headers.setdefault(USER_ID_HEADER, user_id)
    parent = _publishing_parent()
    if parent is not None:
        headers.setdefault(tracing.TRACEPARENT_HEADER, parent.to_w3c())


def _publishing_parent() -> tracing.TraceParent | None:
    """Where a task enqueued now hangs: the traced span, else the request or the task."""
    if not sentry_sdk.get_client().is_active():
        return None
    parent = tracing.current_parent()
    if parent is not None and parent.sampled:
        return parent
    request = current_request.get()
    if request is not None:
        return request.trace_parent()
    return _task_trace.get()


def _start_trace(task: Any) -> ExitStack:
    """Continue the publisher's trace for this run; a sampled one gets a transaction."""
    stack = ExitStack()
    client = sentry_sdk.get_client()
    if not client.is_active():
        return stack
    parent = tracing.parse_traceparent(_header(task, tracing.TRACEPARENT_HEADER))
    rate = client.options.get("traces_sample_rate") or 0.0
    sampled = tracing.decide(path="", parent=parent, rate=rate)
    name = str(getattr(task, "name", "unknown"))
    if sampled:
        transaction = tracing.start_traced(
            parent=parent, op=OP.QUEUE_TASK_CELERY, name=name, source="task"
        )
        stack.enter_context(sentry_sdk.start_transaction(transaction))
        return stack
    # Unsampled: no transaction, but errors of this run and the tasks it enqueues keep the
    # publisher's trace id.
    untraced = tracing.TraceParent(
        parent.trace_id if parent is not None else tracing.TraceParent.new_root().trace_id,
        tracing.TraceParent.new_root().span_id,
        False,
    )
    sentry_sdk.continue_trace({tracing.SENTRY_TRACE_HEADER: untraced.to_sentry()})
    token = _task_trace.set(untraced)
    stack.callback(_task_trace.reset, token)
    return stack


def _header(task: Any, name: str) -> Any:
    request = getattr(task, "request", None)
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


def _job_id(task: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """The task's `job_id` argument, whether passed by keyword or by position."""
    if "job_id" in kwargs:
        return kwargs["job_id"]
    if not args:
        return None
    try:
        names = list(inspect.signature(task.run).parameters)
    except (TypeError, ValueError, AttributeError):
        return None
    if "job_id" in names and names.index("job_id") < len(args):
        return args[names.index("job_id")]
    return None


@signals.task_prerun.connect
def enter_task_context(
    task_id: str | None = None,
    task: Any = None,
    args: tuple[Any, ...] | list[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    """Set request id, user id and job id for every log line of this task run."""
    if task_id is None:
        return
    # A task run eagerly inside a request keeps that request's id; one started by beat gets
    # its own, derived from the task id, so its lines still group together.
    request_id = _header(task, REQUEST_ID_HEADER) or request_id_var.get() or f"task-{task_id}"
    user_id = _header(task, USER_ID_HEADER)
    if user_id is None:
        user_id = user_id_var.get()
    job_id = _job_id(task, args or (), kwargs or {})
    _runs[task_id] = _Run(
        started=time.perf_counter(),
        request_token=request_id_var.set(str(request_id)),
        user_token=user_id_var.set(int(user_id) if user_id is not None else None),
        job_token=job_id_var.set(str(job_id) if job_id is not None else None),
        trace=_start_trace(task),
    )


@signals.task_postrun.connect
def leave_task_context(
    task_id: str | None = None, task: Any = None, state: str | None = None, **extra: Any
) -> None:
    """Count and time the run, then restore the context it replaced."""
    run = _runs.pop(task_id, None) if task_id is not None else None
    name = str(getattr(task, "name", "unknown"))
    CELERY_TASKS.labels(task=name, outcome=OUTCOMES.get(state or "", str(state).lower())).inc()
    if run is None:
        return
    CELERY_TASK_DURATION.labels(task=name).observe(time.perf_counter() - run.started)
    span = sentry_sdk.get_current_span()
    if span is not None and span.sampled and state not in (None, "SUCCESS"):
        span.set_status("internal_error")
    run.trace.close()
    job_id_var.reset(run.job_token)
    user_id_var.reset(run.user_token)
    request_id_var.reset(run.request_token)


@signals.task_revoked.connect
def count_revoked(request: Any = None, **extra: Any) -> None:
    CELERY_TASKS.labels(task=str(getattr(request, "task", "unknown")), outcome="revoked").inc()


@signals.task_rejected.connect
def count_rejected(message: Any = None, **extra: Any) -> None:
    name = (getattr(message, "headers", None) or {}).get("task", "unknown")
    CELERY_TASKS.labels(task=str(name), outcome="rejected").inc()


@signals.setup_logging.connect
def configure_logging(**kwargs: Any) -> None:
    """Configure worker logging from Django's LOGGING, so task lines are the same JSON."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def ensure_sentry() -> None:
    """Start Sentry in this process if it is configured and not running yet."""
    from django.conf import settings

    # Reading settings loads them, and loading them calls sentry_init when SENTRY_DSN is set.
    if not settings.SENTRY_DSN or sentry_sdk.get_client().is_active():
        return
    from telemetry.sentry import sentry_init

    sentry_init(
        dsn=settings.SENTRY_DSN,
        environment=settings.SENTRY_ENVIRONMENT,
        release=settings.SENTRY_RELEASE,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        base_dir=settings.BASE_DIR,
        relay_traces=settings.SENTRY_TRACES_RELAY,
    )


@signals.celeryd_init.connect
def start_sentry_with_worker(**kwargs: Any) -> None:
    ensure_sentry()


@signals.worker_init.connect
def serve_worker_metrics(**kwargs: Any) -> None:
    """Serve this worker's metrics over HTTP when PHONOGLYPH_WORKER_METRICS_PORT is set.

    Runs in the worker's main process. Prefork children record into PROMETHEUS_MULTIPROC_DIR,
    which this server merges; without that directory only the main process's (solo or threads
    pool) metrics are seen.
    """
    from django.conf import settings
    from prometheus_client import start_http_server

    from telemetry.metrics import host_registry

    port = settings.PHONOGLYPH_WORKER_METRICS_PORT
    if not port:
        return
    start_http_server(
        port, addr=settings.PHONOGLYPH_WORKER_METRICS_ADDRESS, registry=host_registry()
    )
    logger.info("worker metrics served on %s:%s", settings.PHONOGLYPH_WORKER_METRICS_ADDRESS, port)


@signals.worker_process_init.connect
def start_sentry_in_child(**kwargs: Any) -> None:
    ensure_sentry()


def flush_reporting() -> None:
    """Send what Sentry and PostHog hold in this process before it exits."""
    from telemetry import analytics

    try:
        tracing.drain_transactions(SHUTDOWN_FLUSH_SECONDS)
        sentry_sdk.flush(timeout=SHUTDOWN_FLUSH_SECONDS)
    except Exception:
        logger.exception("sentry flush failed at worker exit")
    analytics.shutdown()


@signals.worker_process_shutdown.connect
def flush_child(**kwargs: Any) -> None:
    flush_reporting()


@signals.worker_shutdown.connect
def flush_worker(**kwargs: Any) -> None:
    flush_reporting()
