"""Cross-cutting middleware: request ids, log context, security headers, rate-limit mapping."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.exceptions import Ratelimited

from core.api.exceptions import ratelimited_view
from core.logging import ACCESS_LOGGER_NAME, request_id_var, user_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only when it is short and plain, so it can never smuggle log or header
# injection into our output.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")

GetResponse = Callable[[HttpRequest], HttpResponse]

access_logger = logging.getLogger(ACCESS_LOGGER_NAME)


class RequestIdMiddleware:
    """Adopt a valid incoming X-Request-ID or generate one, and echo it on the response."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # set for views and logs
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            access_logger.info(
                "%s %s %s",
                request.method,
                match.view_name if match else "unresolved",
                response.status_code,
                extra={
                    "method": request.method,
                    "route": match.route if match else None,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)
        return response


class LogContextMiddleware:
    """Put the session user's id into the log context (API key users are added on auth)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id_var.set(user.pk)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Add the headers Django's SecurityMiddleware does not: CSP and Permissions-Policy."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        return response


class RatelimitedMiddleware:
    """Turn django-ratelimit's Ratelimited (a 403 by default) into a 429."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Ratelimited):
            return ratelimited_view(request, exception)
        return None


class RateLimitHeadersMiddleware:
    """Copy the rate-limit fields the API throttle computed onto the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in getattr(request, "rate_limit_headers", {}).items():
            response[name] = value
        return response
