"""`Idempotency-Key` for POSTs: the same key and body replay the first response.

The same key with a different body (or another endpoint) is refused with 422; a repeat that
arrives while the first request is still running gets 409. Records expire after
PHONOGLYPH_IDEMPOTENCY_TTL_HOURS. A view returning a secret names it in `secret_fields`: the
record keeps the response without it, so a replay answers with everything but the secret.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import DomainError
from core.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

View = TypeVar("View", bound=APIView)
Handler = Callable[..., Response]


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422


class IdempotencyKeyInProgress(DomainError):
    code = "idempotency_key_in_progress"
    status = 409


class IdempotencyKeyInvalid(DomainError):
    code = "invalid_idempotency_key"
    status = 400


def request_fingerprint(request: Request) -> str:
    """Hash what makes two requests "the same": method, path and the parsed body."""
    try:
        body: Any = request.data
        if hasattr(body, "lists"):
            body = {key: sorted(map(str, values)) for key, values in body.lists()}
        canonical = json.dumps(body, sort_keys=True, default=str)
    except (TypeError, ValueError):
        canonical = repr(request.data)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{canonical}".encode()).hexdigest()


def idempotency_claim(*, request: Request, key: str) -> IdempotencyRecord | Response:
    """Claim `key` for this request, or return the stored response to replay.

    The claim is an INSERT under a unique (user, key) constraint, so of two concurrent
    requests with one key exactly one proceeds; the other sees the claim and gets 409.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyInvalid(
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters."
        )
    fingerprint = request_fingerprint(request)
    user_id = request.user.pk
    if user_id is None:
        raise NotAuthenticated()
    now = timezone.now()
    IdempotencyRecord.objects.filter(user_id=user_id, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user_id=user_id,
                key=key,
                method=request.method or "POST",
                path=request.path,
                request_fingerprint=fingerprint,
                expires_at=now + timedelta(hours=settings.PHONOGLYPH_IDEMPOTENCY_TTL_HOURS),
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(user_id=user_id, key=key)
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body or endpoint."
        )
    if existing.response_status is None:
        raise IdempotencyKeyInProgress(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        )
    replay = Response(existing.response_body, status=existing.response_status)
    if existing.response_content_type:
        replay.content_type = existing.response_content_type
    replay["Idempotent-Replayed"] = "true"
    return replay


def idempotency_complete(
    *, record: IdempotencyRecord, response: Response, secret_fields: tuple[str, ...] = ()
) -> None:
    """Store the response for replay, minus `secret_fields`; server errors release the key."""
    if response.status_code >= 500:
        record.delete()
        return
    body = response.data
    if secret_fields and isinstance(body, dict):
        body = {name: value for name, value in body.items() if name not in secret_fields}
    record.response_status = response.status_code
    record.response_body = body
    record.response_content_type = response.content_type or ""
    record.save(update_fields=["response_status", "response_body", "response_content_type"])


@overload
def idempotent(handler: Handler) -> Handler: ...


@overload
def idempotent(*, secret_fields: tuple[str, ...]) -> Callable[[Handler], Handler]: ...


def idempotent(
    handler: Handler | None = None, *, secret_fields: tuple[str, ...] = ()
) -> Handler | Callable[[Handler], Handler]:
    """Decorate an APIView's `post` to honour the Idempotency-Key header.

    `secret_fields` are top-level response members shown once and never stored: a replay
    omits them.
    """
    if handler is None:
        return functools.partial(_idempotent, secret_fields=secret_fields)
    return _idempotent(handler, secret_fields=secret_fields)


def _idempotent(handler: Handler, *, secret_fields: tuple[str, ...]) -> Handler:
    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        claimed = idempotency_claim(request=request, key=key)
        if isinstance(claimed, Response):
            return claimed
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as error:
            # Refusals become responses through the exception handler; store those too, so a
            # replay answers the same. Anything unexpected frees the key for a retry.
            try:
                handled = view.handle_exception(error)
            except Exception:
                claimed.delete()
                raise
            idempotency_complete(record=claimed, response=handled, secret_fields=secret_fields)
            return handled
        idempotency_complete(record=claimed, response=response, secret_fields=secret_fields)
        return response

    return wrapper
