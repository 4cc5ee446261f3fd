"""RFC 7807 problem+json for every API error, and the error pages for the site.

Domain refusals are `DomainError` subclasses carrying a stable `code` and HTTP status; one
handler maps them (and DRF's and Django's own errors) to problem+json. No stack trace or
internal detail is ever put in a response.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import Resolver404, resolve
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://phonoglyph.dev/problems/"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_DRF_CODES: dict[type[drf_exceptions.APIException], str] = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.ValidationError: "validation_error",
}


class DomainError(Exception):
    """A refusal a client can act on: a stable `code`, an HTTP status and a readable detail."""

    code = "error"
    status = 400
    title: str | None = None

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem+json document; `extra` members may not override the standard ones."""
    body: dict[str, Any] = dict(extra or {})
    body.update(
        {
            "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
            "title": title or _TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "instance": instance,
            "code": code,
        }
    )
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """Return a Django response carrying a problem+json body."""
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        instance=request.path,
        title=title,
        errors=errors,
        extra=extra,
    )
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_errors(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return {str(key): value for key, value in data.items()}
    return {"non_field_errors": data if isinstance(data, list) else [data]}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error becomes problem+json."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    errors: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    title: str | None = None

    if isinstance(exc, DomainError):
        status, code, detail, extra, title = exc.status, exc.code, exc.detail, exc.extra, exc.title
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
    elif isinstance(exc, RequestDataTooBig):
        status, code = 413, "request_too_large"
        detail = "The request body is larger than this endpoint accepts."
    elif isinstance(exc, Http404):
        status, code, detail = 404, "not_found", "No such resource."
    elif isinstance(exc, DjangoPermissionDenied):
        status, code = 403, "permission_denied"
        detail = "You do not have permission to perform this action."
    elif isinstance(exc, drf_exceptions.APIException):
        status = exc.status_code
        code = next(
            (value for kind, value in _DRF_CODES.items() if isinstance(exc, kind)),
            str(exc.default_code),
        )
        if isinstance(exc, drf_exceptions.ValidationError):
            detail = "The request has invalid fields."
            errors = _validation_errors(exc.detail)
        else:
            detail = str(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(math.ceil(wait))
    else:
        return None

    # Imported on use: rest_framework.views loads the authentication classes from settings,
    # which import accounts, whose services raise the domain errors defined here.
    from rest_framework.views import set_rollback

    set_rollback()
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        title=title,
        errors=errors,
        extra=extra,
    )
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def retry_after_seconds(request: HttpRequest) -> int:
    return max(1, int(getattr(request, "ratelimit_retry_after", 60)))


def ratelimited_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer a rate-limited request with 429 and Retry-After (page or problem+json)."""
    retry_after = retry_after_seconds(request)
    headers = {"Retry-After": str(retry_after)}
    detail = f"Too many requests. Try again in {retry_after} seconds."
    if is_api_request(request):
        return problem_response(
            request, status=429, code="rate_limited", detail=detail, headers=headers
        )
    response = render(request, "errors/429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 handler: problem+json under /api/, the site's page elsewhere."""
    if is_api_request(request):
        return problem_response(request, status=404, code="not_found", detail="No such resource.")
    return render(request, "errors/404.html", status=404)


def api_path_unknown(request: HttpRequest) -> HttpResponse:
    """The last route under /api/: a path no API route takes.

    A 404 problem in every mode: without this route development mode would answer with
    Django's HTML debug page, which an integrator's client cannot read. A path that only lacks
    its trailing slash is redirected with 308, which keeps the method and the body (the 301 of
    APPEND_SLASH would turn a POST into a GET).
    """
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_path_unknown:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else ""), preserve_request=True
            )
    return page_not_found(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler: never a stack trace, never the debug page."""
    if is_api_request(request):
        return problem_response(
            request,
            status=500,
            code="internal_error",
            detail="Something went wrong on our side. It has been logged.",
        )
    return render(request, "errors/500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return problem_response(request, status=403, code="permission_denied", detail="Forbidden.")
    return render(request, "errors/403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        if is_api_request(request):
            return problem_response(
                request,
                status=413,
                code="request_too_large",
                detail="The request body is larger than this endpoint accepts.",
            )
        return render(request, "errors/413.html", status=413)
    if is_api_request(request):
        return problem_response(request, status=400, code="bad_request", detail="Bad request.")
    return render(request, "errors/400.html", status=400)
