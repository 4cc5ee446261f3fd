from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_api_key, request_user
from accounts.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    LoginSerializer,
    UserSerializer,
)
from accounts.limits import (
    LoginBusy,
    LoginThrottled,
    known_device_remember,
    login_failure_record,
    login_throttle_check,
    password_hash_slot,
)
from accounts.models import ApiKey
from accounts.selectors import api_key_list_for_user
from accounts.services import EmailUnconfirmed, api_key_create, api_key_revoke
from core.api.exceptions import DomainError
from core.api.idempotency import idempotent
from core.api.parsers import JSONParser
from telemetry.reporting import emit_event


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


class LoginRateLimited(DomainError):
    code = "rate_limited"
    status = 429


class LoginBusyError(DomainError):
    code = "login_busy"
    status = 503


class ApiKeyNotFound(DomainError):
    code = "not_found"
    status = 404


class MeApi(APIView):
    """The authenticated user."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request_user(request)).data)


class OriginNotAllowed(DomainError):
    code = "origin_not_allowed"
    status = 403


def _origin_allowed(request: Request) -> bool:
    """Whether a browser sent this from one of our own pages (or no browser sent it at all).

    Browsers name the page's origin on every POST; clients that send none start a session
    only for themselves, which is no log-in CSRF.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site", "same-origin") in {"same-origin", "none"}
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


class LoginApi(APIView):
    """Start a browser session with email and password, under the limits of accounts.limits.

    JSON only, and refused (403 origin_not_allowed) when a browser sends it from another
    site's page: a form-encoded cross-site POST would otherwise log the victim's browser into
    the attacker's account. The right password of an account whose sign-up email is not
    confirmed yet gets 403 email_unconfirmed.
    """

    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    parser_classes = (JSONParser,)

    @extend_schema(request=LoginSerializer, responses=UserSerializer)
    def post(self, request: Request) -> Response:
        if not _origin_allowed(request):
            raise OriginNotAllowed("Log in from this site's own pages.")
        # Counted before anything else: during a spray the refusal must cost next to nothing.
        body = request.data
        email = str(body.get("email", "")) if isinstance(body, dict) else ""
        try:
            login_throttle_check(request=request._request, email=email)
        except LoginThrottled as throttled:
            raise LoginRateLimited(
                str(throttled), extra={"retry_after": throttled.retry_after}
            ) from throttled
        serializer = LoginSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        try:
            with password_hash_slot():
                user = authenticate(
                    request._request, username=email, password=serializer.validated_data["password"]
                )
        except LoginBusy as busy:
            raise LoginBusyError(
                "Too many log-ins are being checked right now; retry in a moment.",
                extra={"retry_after": busy.retry_after},
            ) from busy
        if user is None:
            login_failure_record(request=request._request, email=email)
            raise InvalidCredentials("Email or password is wrong.")
        if not user.is_email_confirmed:
            # Said only to whoever knows the password.
            raise EmailUnconfirmed(
                "Confirm your email first: open the link we mailed you when you signed up.",
                extra={"resend_url": reverse("accounts:signup-confirm-resend")},
            )
        login(request._request, user)
        response = Response(UserSerializer(user).data)
        known_device_remember(request=request._request, response=response, email=user.email)
        return response


class ApiKeyListCreateApi(generics.ListAPIView[ApiKey]):
    """List the caller's API keys, or create one (the secret is in the response only).

    An API key needs the `api_keys` scope to create keys; the keys it creates are revoked with it.
    """

    serializer_class = ApiKeySerializer

    def get_queryset(self) -> Any:
        return api_key_list_for_user(user=request_user(self.request))

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    @idempotent(secret_fields=("key",))
    def post(self, request: Request) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = api_key_create(
            user=request_user(request),
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            expires_at=serializer.validated_data["expires_at"],
            created_by=request_api_key(request),
        )
        emit_event(
            "api_key_created",
            user_id=request.user.pk,
            properties={"api_key_id": created.api_key.pk},
        )
        data = dict(ApiKeySerializer(created.api_key).data)
        data["key"] = created.raw
        return Response(data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    """Revoke one of the caller's API keys and the keys minted from it."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, api_key_id: UUID) -> Response:
        revoked = api_key_revoke(
            user=request_user(request), public_id=api_key_id, revoked_by=request_api_key(request)
        )
        if not revoked:
            raise ApiKeyNotFound("No such active API key.")
        return Response(status=status.HTTP_204_NO_CONTENT)
