from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _assert_security_headers(response: object) -> None:
    for name, value in EXPECTED.items():
        assert response[name] == value  # type: ignore[index]
    csp = response["Content-Security-Policy"]  # type: ignore[index]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]  # type: ignore[index]


def test_pages_carry_the_security_headers() -> None:
    _assert_security_headers(Client().get("/"))


def test_api_responses_carry_the_security_headers(api_client: APIClient) -> None:
    _assert_security_headers(api_client.get("/api/v1/me/"))


def test_error_responses_carry_the_security_headers() -> None:
    _assert_security_headers(APIClient().get("/api/v1/me/"))


def test_hsts_and_secure_cookies_are_on_without_debug(settings: object) -> None:
    response = Client().get("/", secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert settings.SESSION_COOKIE_SECURE is True  # type: ignore[attr-defined]
    assert settings.CSRF_COOKIE_SECURE is True  # type: ignore[attr-defined]


def test_pages_contain_no_inline_script() -> None:
    import re

    for path in ("/", "/account/login/", "/account/signup/"):
        html = Client().get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag
        assert " style=" not in html
