from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate
from core.logging import user_id_var


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer phg_...` API keys."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        api_key = api_key_authenticate(raw=raw)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        user_id_var.set(api_key.user.pk)
        # request.auth is the key, so views can apply its scopes.
        return (api_key.user, api_key)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describe API keys in the OpenAPI schema as an HTTP bearer scheme."""

    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "phg_<key>",
            "description": "An API key created on the account page or with createapikey.",
        }


def request_api_key(request: Request) -> ApiKey | None:
    """Return the API key `request` authenticated with, or None for a session."""
    auth = request.auth
    return auth if isinstance(auth, ApiKey) else None


def request_user(request: Request | HttpRequest) -> User:
    """Return the authenticated user of `request`, typed; refuse anonymous callers with 401."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user
