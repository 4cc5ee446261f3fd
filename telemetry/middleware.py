"""The per-request monitor: latency metrics for every request, events and errors for the API."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import sentry_sdk
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import ResolverMatch

from telemetry.errors import capture_processing_error
from telemetry.metrics import HTTP_REQUEST_DURATION
from telemetry.reporting import emit_event

logger = logging.getLogger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponse]

API_PREFIX = "/api/"
UNMATCHED_ROUTE = "<unmatched>"
# Metric labels come only from bounded sets, so a client cannot grow the series count.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Views of these apps process audio: their failures go to Sentry with the audio context.
PROCESSING_APPS = frozenset({"media", "analysis"})
PROCESSING_WORDS = ("media", "analys", "stem")
# Django turns these into 4xx responses: refusals, not failures.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


def route_of(match: ResolverMatch | None) -> str:
    """Name a request by its URL pattern, never by its path (which holds ids)."""
    if match is None:
        return UNMATCHED_ROUTE
    return match.view_name or match.route or UNMATCHED_ROUTE


def method_label(method: str | None) -> str:
    """The method as a metric label; any method a client invents counts as "other"."""
    return method if method in KNOWN_METHODS else "other"


def is_processing_route(match: ResolverMatch | None) -> bool:
    if match is None:
        return False
    module = getattr(match.func, "__module__", "") or ""
    if module.split(".", 1)[0] in PROCESSING_APPS:
        return True
    return any(word in match.view_name for word in PROCESSING_WORDS)


def _user_id(request: HttpRequest) -> int | None:
    # DRF copies the user it authenticated (API key or session) onto the Django request.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return int(user.pk)
    return None


def _error_code(response: HttpResponse) -> str | None:
    data = getattr(response, "data", None)
    if isinstance(data, dict):
        code = data.get("code")
        return str(code) if code is not None else None
    return None


class RequestMonitoringMiddleware:
    """Time every request by route; report API calls as events and API failures to Sentry.

    Placed right after the request-id middleware so the timing covers the whole stack and its
    Sentry events carry the request id as a tag.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        # Lets an operator go from a Sentry event to the request's log lines.
        sentry_sdk.set_tag("request_id", getattr(request, "request_id", None))
        response = self.get_response(request)
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = route_of(match)
        status = response.status_code
        HTTP_REQUEST_DURATION.labels(
            route=route, method=method_label(request.method), status=str(status)
        ).observe(duration)
        if request.path.startswith(API_PREFIX):
            self._report_api_call(request, response, match, route, duration)
        return response

    def _report_api_call(
        self,
        request: HttpRequest,
        response: HttpResponse,
        match: ResolverMatch | None,
        route: str,
        duration: float,
    ) -> None:
        status = response.status_code
        user_id = _user_id(request)
        if status >= 500 and not getattr(request, "_monitoring_exception_reported", False):
            self._report_server_error(request, match, route, status, user_id)
        rate = settings.PHONOGLYPH_API_EVENT_SAMPLE_RATE
        if rate <= 0 or (rate < 1 and random.random() >= rate):  # noqa: S311  # sampling only
            return
        emit_event(
            "api_call_error" if status >= 400 else "api_call_success",
            user_id=user_id,
            properties={
                "route": route,
                "method": request.method,
                "status": status,
                "duration_ms": round(duration * 1000, 2),
                "error_code": _error_code(response) if status >= 400 else None,
            },
        )

    def _report_server_error(
        self,
        request: HttpRequest,
        match: ResolverMatch | None,
        route: str,
        status: int,
        user_id: int | None,
    ) -> None:
        # A 5xx without an exception is a view that chose to fail (a dependency down, say);
        # it is still an error an operator must see.
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("route", route)
            scope.set_tag("operation", f"api.{route}")
            if user_id is not None:
                scope.set_user({"id": str(user_id)})
            scope.capture_message(f"{request.method} {route} answered {status}", level="error")

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Report an exception no view handled; Django then renders the 500 page."""
        match = getattr(request, "resolver_match", None)
        if not request.path.startswith(API_PREFIX) or isinstance(exception, CLIENT_ERRORS):
            return
        route = route_of(match)
        request._monitoring_exception_reported = True  # type: ignore[attr-defined]  # seen above
        if is_processing_route(match):
            capture_processing_error(
                exception,
                operation=f"api.{route}",
                user_id=_user_id(request),
                metadata={"route": route, "method": request.method},
            )
        else:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("route", route)
                scope.set_tag("operation", f"api.{route}")
                scope.capture_exception(exception)
