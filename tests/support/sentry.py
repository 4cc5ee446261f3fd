"""Sentry started against a loopback sink for one test, then stopped leaving nothing behind."""

from __future__ import annotations

import sentry_sdk
from django.conf import settings

from telemetry.sentry import sentry_init
from telemetry.tracing import drain_transactions


def _clear_scopes() -> None:
    # Untraced requests share the thread's scopes; what an earlier test left there (breadcrumbs,
    # event processors) must not reach this test's events.
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()


def sentry_start(*, port: int, traces_sample_rate: float) -> None:
    """The product's Sentry set-up, posting to the loopback server on `port` (project 42)."""
    _clear_scopes()
    sentry_init(
        dsn=f"http://publickey@127.0.0.1:{port}/42",
        environment="test",
        release="",
        traces_sample_rate=traces_sample_rate,
        base_dir=settings.BASE_DIR,
    )


def sentry_stop() -> None:
    """Send what is pending (the trace relay's too), then leave the process with no Sentry client.

    Not a bare `sentry_sdk.init()`: that would install the SDK's auto-enabled integrations
    (Django's among them) for the rest of the process, whose request event processors would
    then write into later tests' events.
    """
    drain_transactions(timeout_seconds=5)
    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    _clear_scopes()
