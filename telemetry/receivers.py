"""Instrumentation receivers: identify users when they log in; report requests that crash;
send a traced request's transaction once its response is delivered.

A signal is acceptable here because this is observation, not domain flow: nothing the product
does depends on it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.core.signals import got_request_exception, request_finished
from django.dispatch import receiver
from django.http import HttpRequest

from telemetry import analytics, tracing
from telemetry.middleware import report_unhandled_exception
from telemetry.reporting import emit_event


@receiver(user_logged_in, dispatch_uid="telemetry.identify_on_login")
def identify_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Tie the user's later events to their id, so funnels follow them across sessions."""
    analytics.identify(user_id=user.pk, properties={"is_staff": bool(user.is_staff)})
    emit_event("user_logged_in", user_id=user.pk, properties={"method": "session"})


@receiver(got_request_exception, dispatch_uid="telemetry.report_unhandled_exception")
def report_request_exception(
    sender: Any, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Send to Sentry what Django is about to answer with its 500 page."""
    report_unhandled_exception(request)


@receiver(request_finished, dispatch_uid="telemetry.finish_transaction_after_response")
def finish_transaction_after_response(sender: Any, **kwargs: Any) -> None:
    """Finish the traced request's transaction now that the client has the whole response."""
    tracing.finish_after_response()
