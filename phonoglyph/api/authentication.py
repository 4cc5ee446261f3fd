from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.services import api_key_authenticate
from phonoglyph.logging import user_id_var


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer phg_...` API keys."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        user = api_key_authenticate(raw=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        user_id_var.set(user.pk)
        return (user, None)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
