"""Sentry set-up: integrations, release naming, and the scrubbing (`telemetry.scrubbing`) every
event goes through.

`sentry_init` is called from settings when `SENTRY_DSN` is set, so web processes and Celery
workers (which load settings at start-up) both report from their first line of work. Nothing
here imports Django settings: the settings module passes everything in.

Sentry's Django integration is deliberately not used: it copies a scope, installs event
processors and names a transaction for every request, traced or not, which cost about 1 ms a
request. `telemetry.middleware` decides tracing at the edge instead, and
`telemetry.context.add_context` builds the request's context only for an event being sent.
"""

from __future__ import annotations

import atexit
import functools
import logging
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.scope import add_global_event_processor

from core.logging import ACCESS_LOGGER_NAME
from telemetry import trace_relay
from telemetry.context import add_context
from telemetry.scrubbing import before_send, before_send_transaction, event_scrubber
from telemetry.tracing import UNTRACED_PATH_PREFIXES, drain_transactions

__all__ = ["sentry_init"]


class ContextIntegration(Integration):
    """Adds the request's or task's context to each event as it is sent (`add_context`), and
    sends the transactions still being finished when the process exits."""

    identifier = "phonoglyph_context"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(add_context)  # type: ignore[arg-type]
        # Registered after the SDK's own exit hook (its integration is set up first), so it
        # runs first: the transactions drained here are then flushed by the SDK's.
        atexit.register(drain_transactions)


def traces_sampler_for(rate: float) -> Callable[[dict[str, Any]], float]:
    """Sample at `rate`, follow the caller's decision when a trace arrives, skip probes.

    Requests and task runs are decided before their transaction starts (`telemetry.tracing`),
    so this only sees what starts a transaction some other way. The Celery integration's own
    per-task transaction is never sampled: `telemetry.celery_signals` starts the task's
    transaction from the `traceparent` header instead.
    """

    def traces_sampler(sampling_context: dict[str, Any]) -> float:
        if "celery_job" in sampling_context:
            return 0.0
        parent_sampled = sampling_context.get("parent_sampled")
        if parent_sampled is not None:
            # A trace begun upstream (the browser SDK) is kept whole or dropped whole.
            return 1.0 if parent_sampled else 0.0
        environ = sampling_context.get("wsgi_environ") or {}
        if str(environ.get("PATH_INFO", "")).startswith(UNTRACED_PATH_PREFIXES):
            return 0.0
        return rate

    return traces_sampler


@functools.cache
def git_sha(base_dir: Path) -> str | None:
    """Return the short commit of a source checkout at `base_dir`, or None when there is none."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607  # git from PATH by design
            cwd=base_dir,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = completed.stdout.strip()
    return sha or None


@functools.cache
def release_name(release: str, base_dir: Path) -> str:
    """`release` when given, else phonoglyph@<version>[+<git sha>].

    The version is the installed distribution's; a source tree run without installing it
    names the commit alone.
    """
    if release:
        return release
    sha = git_sha(base_dir)
    try:
        version = metadata.version("phonoglyph")
    except metadata.PackageNotFoundError:
        return f"phonoglyph@{sha}" if sha else "phonoglyph"
    return f"phonoglyph@{version}+{sha}" if sha else f"phonoglyph@{version}"


def sentry_init(
    *,
    dsn: str,
    environment: str,
    release: str,
    traces_sample_rate: float,
    base_dir: Path,
    relay_traces: bool = True,
) -> None:
    """Start the Sentry client for this process with the product's scrubbing rules.

    With `relay_traces` a child process builds and sends traced requests' transactions
    (`telemetry.trace_relay`); without it this process does.
    """
    trace_relay.set_enabled(relay_traces)
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release_name(release, base_dir),
        traces_sample_rate=traces_sample_rate,
        traces_sampler=traces_sampler_for(traces_sample_rate),
        send_default_pii=False,
        event_scrubber=event_scrubber(),
        before_send=before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send_transaction,  # type: ignore[arg-type]
        max_request_body_size="small",
        # Each auto-enabled integration (Django, Redis, ...) patches code every request runs.
        auto_enabling_integrations=False,
        integrations=[
            # Task headers carry a W3C traceparent of ours instead of Sentry's own headers.
            CeleryIntegration(monitor_beat_tasks=False, propagate_traces=False),
            # Logs are not sent to Sentry (they go to stdout as JSON), so no handler is put on
            # every log record only to discard it there.
            LoggingIntegration(
                level=logging.INFO, event_level=logging.ERROR, sentry_logs_level=None
            ),
            ContextIntegration(),
        ],
    )
    # The outermost middleware writes the access line as the request ends, after everything that
    # could report an error, so as a breadcrumb it would precede no event; recording it would
    # still cost every request.
    ignore_logger(ACCESS_LOGGER_NAME)
    # Every scanner that sends a foreign Host header gets a 400; reporting each one would bury
    # the errors that need a person.
    ignore_logger("django.security.DisallowedHost")
