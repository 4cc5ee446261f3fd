"""The per-request monitor: latency metrics for every request, events and errors for the API.

It is also Sentry's edge: whether a request is traced is decided here, once, before anything is
paid for. The untraced request (most of them, at production's 10 %) gets no transaction, no
scope copy and no request event processor; only a context variable naming the request, which
`telemetry.context.add_context` reads if an error is actually reported. A traced request gets
little more: a record of its ids and times (`tracing.RequestTrace`), from which its transaction
is built and sent by the relay process after the response has been delivered. The latency
histogram and the API's product events are recorded then too (`tracing.after_response`): the
timing ends before the response leaves, the recording waits until the client has it.
"""

from __future__ import annotations

import functools
import logging
import random
import sys
import time
from collections.abc import Callable

import sentry_sdk
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import ResolverMatch
from prometheus_client import Histogram

from telemetry import tracing
from telemetry.context import (
    UNMATCHED_ROUTE,
    RequestTelemetry,
    current_request,
    keep_small_body,
    request_info_url,
    route_of,
    route_path,
    user_id_of,
)
from telemetry.errors import capture_processing_error
from telemetry.metrics import HTTP_REQUEST_DURATION
from telemetry.reporting import emit_event

logger = logging.getLogger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponse]

API_PREFIX = "/api/"
# Metric labels come only from bounded sets, so a client cannot grow the series count.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Views of these apps process audio: their failures go to Sentry with the audio context.
PROCESSING_APPS = frozenset({"media", "analysis"})
PROCESSING_WORDS = ("media", "analys", "stem")
# Django turns these into 4xx responses: refusals, not failures.
CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)

__all__ = ["RequestMonitoringMiddleware", "is_processing_route", "method_label", "route_of"]


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


# The histogram's children by label values, looked up without the metric's lock and label
# checks; bounded like the labels themselves (route names, KNOWN_METHODS, status codes).
_DURATION_CHILDREN: dict[tuple[str, str, int], Histogram] = {}


def _duration_of(route: str, method: str, status: int) -> Histogram:
    child = _DURATION_CHILDREN.get((route, method, status))
    if child is None:
        child = HTTP_REQUEST_DURATION.labels(route=route, method=method, status=str(status))
        _DURATION_CHILDREN[(route, method, status)] = child
    return child


def _end_trace(trace: tracing.RequestTrace, request: HttpRequest, *, status: int | None) -> None:
    route = route_of(getattr(request, "resolver_match", None))
    trace.end(
        name=route_path(request),
        status=status,
        route=None if route == UNMATCHED_ROUTE else route,
        request_id=getattr(request, "request_id", None),
        url=request_info_url(request),
        method=str(request.method),
    )


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
        tracing.hand_over_unfinished()
        client = sentry_sdk.get_client()
        if not client.is_active():
            response = self.get_response(request)
            self._observe(request, response, started)
            return response
        parent = tracing.incoming_parent(request.META)
        keep_small_body(request)
        # The worker thread's scope outlives the request: what the previous request logged must
        # not show up as the breadcrumbs of this one's errors.
        sentry_sdk.get_isolation_scope().clear_breadcrumbs()
        rate = client.options.get("traces_sample_rate") or 0.0
        trace = None
        if tracing.decide(path=request.path, parent=parent, rate=rate):
            trace = tracing.RequestTrace(parent, request.META.get("HTTP_BAGGAGE"))
        token = current_request.set(RequestTelemetry(request, parent, trace))
        try:
            if trace is None:
                response = self.get_response(request)
                self._observe(request, response, started)
                return response
            return self._serve_traced(request, trace, started)
        finally:
            current_request.reset(token)

    def _serve_traced(
        self, request: HttpRequest, trace: tracing.RequestTrace, started: float
    ) -> HttpResponse:
        # No span per SQL query: each costs a traced request about 0.1 ms to record,
        # serialise and scrub, several times what the rest of monitoring costs.
        try:
            response = self.get_response(request)
        except BaseException:
            _end_trace(trace, request, status=None)
            tracing.send_in_background(trace)
            raise
        self._observe(request, response, started)
        _end_trace(trace, request, status=response.status_code)
        tracing.send_after_response(trace)
        return response

    def _observe(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = route_of(match)
        status = response.status_code
        if (
            request.path.startswith(API_PREFIX)
            and status >= 500
            and not getattr(request, "_monitoring_exception_reported", False)
        ):
            # Reported while the request is current, so the event carries its context.
            self._report_server_error(request, match, route, status, user_id_of(request))
        # The latency is measured up to here; recording it and the product event can wait
        # until the client has the response.
        tracing.after_response(functools.partial(self._record, request, response, route, duration))

    def _record(
        self,
        request: HttpRequest,
        response: HttpResponse,
        route: str,
        duration: float,
    ) -> None:
        _duration_of(route, method_label(request.method), response.status_code).observe(duration)
        if request.path.startswith(API_PREFIX):
            self._report_api_call(request, response, route, duration)

    def _report_api_call(
        self,
        request: HttpRequest,
        response: HttpResponse,
        route: str,
        duration: float,
    ) -> None:
        status = response.status_code
        rate = settings.PHONOGLYPH_API_EVENT_SAMPLE_RATE
        if rate <= 0 or (rate < 1 and random.random() >= rate):  # noqa: S311  # sampling only
            return
        emit_event(
            "api_call_error" if status >= 400 else "api_call_success",
            user_id=user_id_of(request),
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
                user_id=user_id_of(request),
                metadata={"route": route, "method": request.method},
            )
        else:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("route", route)
                scope.set_tag("operation", f"api.{route}")
                scope.capture_exception(exception)


def report_unhandled_exception(request: HttpRequest | None) -> None:
    """Send the exception Django is turning into a 500 page, unless the monitor already did.

    Connected to `got_request_exception`, which Django sends for exceptions raised anywhere in
    the middleware stack or a view that no handler turned into a response.
    """
    if request is not None and getattr(request, "_monitoring_exception_reported", False):
        return
    if not sentry_sdk.get_client().is_active():
        return
    if request is not None:
        request._monitoring_exception_reported = True  # type: ignore[attr-defined]  # seen above
    sentry_sdk.capture_exception(sys.exc_info())
