"""What a Sentry event says about the request or task it happened in, built only when one is sent.

The request monitor puts the request in `current_request` and nothing else: no scope is
copied, no tag is set, no body is parsed for the requests that never report anything.
`add_context`, an event processor installed on the global scope by `sentry_init`, reads it when
an event is actually on its way and adds the route, the user id, the request id, the request
(scrubbed afterwards by `before_send` and the event scrubber) and the request's place in its
trace (its recorded span when traced, else a trace id of its own). In a task it adds the
request id, user id and job id of the log context.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import sentry_sdk
from django.http import HttpRequest
from django.urls import ResolverMatch

from core.logging import job_id_var, request_id_var, user_id_var
from telemetry.scrubbing import UPLOAD_PATH_PREFIXES
from telemetry.tracing import RequestTrace, TraceParent

UNMATCHED_ROUTE = "<unmatched>"
# Headers that carry credentials or a person's address; the rest describe the client.
SENSITIVE_HEADERS = frozenset(
    {"COOKIE", "AUTHORIZATION", "PROXY_AUTHORIZATION", "X_API_KEY", "X_FORWARDED_FOR", "X_REAL_IP"}
)
# Sentry's "small" request bodies; larger ones are never kept.
MAX_BODY_BYTES = 1000
BODY_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")


class RequestTelemetry:
    """The request being served and where it hangs in a trace.

    `trace` is the record of a traced request; an untraced one makes its trace id on demand.
    """

    __slots__ = ("_untraced", "parent", "request", "trace")

    def __init__(
        self, request: HttpRequest, parent: TraceParent | None, trace: RequestTrace | None = None
    ) -> None:
        self.request = request
        self.parent = parent
        self.trace = trace
        self._untraced: TraceParent | None = None

    def trace_parent(self) -> TraceParent:
        """The span this request reports under and passes on to its tasks."""
        if self.trace is not None:
            return self.trace.span
        if self._untraced is None:
            parent = self.parent
            trace_id = parent.trace_id if parent is not None else TraceParent.new_root().trace_id
            self._untraced = TraceParent(trace_id, TraceParent.new_root().span_id, False)
        return self._untraced


current_request: ContextVar[RequestTelemetry | None] = ContextVar(
    "telemetry_current_request", default=None
)


def route_of(match: ResolverMatch | None) -> str:
    """Name a request by its URL pattern, never by its path (which holds ids)."""
    if match is None:
        return UNMATCHED_ROUTE
    return match.view_name or match.route or UNMATCHED_ROUTE


def route_path(request: HttpRequest) -> str:
    """The URL pattern of a request as a path ("/api/v1/media/<int:pk>/"), else its path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + str(match.route).lstrip("^/")
    return request.path


def user_id_of(request: HttpRequest) -> int | None:
    # DRF copies the user it authenticated (API key or session) onto the Django request.
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return int(user.pk)
    return None


def keep_small_body(request: HttpRequest) -> None:
    """Read a small JSON or form body now, so an error report can still show it.

    The parsers consume the request stream; Django keeps what `body` read. Uploads and large
    bodies are never read here: they are never reported.
    """
    meta = request.META
    if not str(meta.get("CONTENT_TYPE", "")).startswith(BODY_CONTENT_TYPES):
        return
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if 0 < length <= MAX_BODY_BYTES and not request.path.startswith(UPLOAD_PATH_PREFIXES):
        request.body  # noqa: B018  # reading caches it on the request


def request_info_url(request: HttpRequest) -> str:
    """The URL without its query string; never validated against ALLOWED_HOSTS, so never raises."""
    meta = request.META
    host = meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")
    return f"{request.scheme}://{host}{request.path}"


def request_info(request: HttpRequest) -> dict[str, Any]:
    """The request as Sentry shows it, without credentials, cookies or the client's address."""
    meta = request.META
    info: dict[str, Any] = {
        "url": request_info_url(request),
        "method": request.method,
        "query_string": meta.get("QUERY_STRING", ""),
        "headers": {
            name.removeprefix("HTTP_").replace("_", "-").title(): str(value)
            for name, value in meta.items()
            if name.startswith("HTTP_") and name.removeprefix("HTTP_") not in SENSITIVE_HEADERS
        },
    }
    body = getattr(request, "_body", None)
    if isinstance(body, bytes) and body:
        data = _parsed_body(request, body)
        if data is not None:
            info["data"] = data
    return info


def _parsed_body(request: HttpRequest, body: bytes) -> Any:
    content_type = str(request.META.get("CONTENT_TYPE", ""))
    try:
        if content_type.startswith("application/json"):
            return json.loads(body)
        return dict(request.POST.items())
    except ValueError:
        return None


def _add_request_context(event: dict[str, Any], current: RequestTelemetry) -> None:
    request = current.request
    # This request's values win over whatever an earlier request left on the thread's scope:
    # untraced requests share it rather than paying for an isolated one.
    tags = event.setdefault("tags", {})
    tags["request_id"] = getattr(request, "request_id", None)
    route = route_of(getattr(request, "resolver_match", None))
    if route != UNMATCHED_ROUTE:
        tags["route"] = route
    if event.get("type") == "transaction":
        # A trace is read by its route and timings; the full request is kept for errors, so
        # the tenth of requests that are traced pay for no header or body walk.
        event["request"] = {"url": request_info_url(request), "method": request.method}
    else:
        event["request"] = request_info(request)
        event["transaction"] = route_path(request)
        user_id = user_id_of(request)
        if user_id is not None:
            event.setdefault("user", {}).setdefault("id", str(user_id))
        active = sentry_sdk.get_current_span()
        if active is None or not active.sampled:
            # Outside a task's transaction the scope's propagation context belongs to the
            # worker thread, not to the request, and would tie unrelated requests into one.
            span = current.trace_parent()
            event.setdefault("contexts", {})["trace"] = {
                "trace_id": span.trace_id,
                "span_id": span.span_id,
            }


def _add_task_context(event: dict[str, Any]) -> None:
    tags = event.setdefault("tags", {})
    request_id = request_id_var.get()
    if request_id is not None:
        tags.setdefault("request_id", request_id)
    job_id = job_id_var.get()
    if job_id is not None:
        tags.setdefault("job_id", job_id)
    user_id = user_id_var.get()
    if user_id is not None and event.get("type") != "transaction":
        event.setdefault("user", {}).setdefault("id", str(user_id))


def add_context(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Event processor: the request's (or task's) context, read only now that an event is sent."""
    try:
        current = current_request.get()
        if current is not None:
            _add_request_context(event, current)
        else:
            _add_task_context(event)
    except Exception:  # noqa: S110  # losing context must never lose the event itself
        pass
    return event
