"""Every API error is RFC 7807 problem+json, including Django-level ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code"}


def _api_routes() -> Iterator[tuple[str, object]]:
    """Yield (example path, callback) for every route under /api/v1/ in the URL conf."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[tuple[str, object]]:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + route)
            else:
                yield prefix + route, pattern.callback

    for route, callback in walk(get_resolver().url_patterns, "/"):
        if route.startswith("/api/v1/"):
            path = route.replace("^", "").replace("$", "")
            for converter in ("<int:", "<uuid:", "<str:", "<slug:", "<"):
                while converter in path:
                    start = path.index(converter)
                    end = path.index(">", start)
                    filler = "00000000-0000-0000-0000-000000000000" if "uuid" in converter else "1"
                    path = path[:start] + filler + path[end + 1 :]
            yield path, callback


API_ROUTES = sorted({path for path, _ in _api_routes()})


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert "Traceback" not in str(body)
    return body  # type: ignore[no-any-return]


def test_the_url_conf_has_api_routes_to_walk() -> None:
    assert "/api/v1/me/" in API_ROUTES


@pytest.mark.parametrize("path", API_ROUTES)
def test_every_api_route_answers_a_bad_method_with_405_or_401_problem(path: str) -> None:
    response = APIClient().generic("PATCH", path)
    assert response["Content-Type"] == "application/problem+json"
    assert response.status_code in {401, 405}


@pytest.mark.parametrize("path", API_ROUTES)
def test_every_api_route_refuses_or_serves_unauthenticated_callers_with_problem_json(
    path: str,
) -> None:
    response = APIClient().get(path)
    if response.status_code < 400:
        assert path.endswith(("schema/", "docs/")) or "health" in path
        return
    assert response["Content-Type"] == "application/problem+json"
    assert response.status_code in {401, 404, 405}


@pytest.mark.parametrize("path", API_ROUTES)
def test_every_api_route_answers_an_authenticated_bad_method_with_405_problem(
    path: str, api_client: APIClient
) -> None:
    response = api_client.generic("PATCH", path)
    assert response["Content-Type"] == "application/problem+json"
    assert response.status_code in {403, 404, 405}


def test_unauthenticated_request_is_401_problem(anon_client: APIClient) -> None:
    body = assert_problem(anon_client.get("/api/v1/me/"), 401)
    assert body["code"] == "not_authenticated"
    assert body["instance"] == "/api/v1/me/"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_unknown_api_path_is_404_problem_in_every_mode(
    api_client: APIClient, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    for path in ("/api/v1/no-such-thing/", "/api/v2/me/", "/api/v1/media/not-a-uuid/"):
        assert assert_problem(api_client.get(path), 404)["code"] == "not_found"


def test_an_api_path_without_its_trailing_slash_is_redirected_keeping_the_method(
    api_client: APIClient,
) -> None:
    response = api_client.post("/api/v1/webhooks?x=1", {"url": "https://example.com/"})

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/webhooks/?x=1"


def test_validation_error_is_400_problem_with_errors_by_field(user: User) -> None:
    body = assert_problem(
        APIClient().post("/api/v1/auth/login/", {"email": "not-an-email"}, format="json"), 400
    )
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"email", "password"}  # type: ignore[call-overload]


def test_malformed_json_is_400_problem(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/api-keys/", data="{not json", content_type="application/json"
    )
    assert assert_problem(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize("document", ['{"a":' * 5000 + "1" + "}" * 5000, "[" * 100_000])
def test_json_nested_too_deeply_to_decode_is_400_problem(
    api_client: APIClient, document: str
) -> None:
    response = api_client.post("/api/v1/api-keys/", data=document, content_type="application/json")
    body = assert_problem(response, 400)
    assert body["code"] == "parse_error"
    assert "nested too deeply" in str(body["detail"])


def test_unsupported_content_type_is_415_problem(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/api-keys/", data="name=x", content_type="text/csv")
    assert assert_problem(response, 415)["code"] == "unsupported_media_type"


def test_forbidden_is_403_problem(api_client: APIClient) -> None:
    from django.urls import path
    from rest_framework.permissions import IsAdminUser
    from rest_framework.views import APIView

    class StaffOnly(APIView):
        permission_classes = (IsAdminUser,)

    from django.test import override_settings

    urls = type("urls", (), {"urlpatterns": [path("api/v1/staff/", StaffOnly.as_view())]})
    with override_settings(ROOT_URLCONF=urls):
        body = assert_problem(api_client.get("/api/v1/staff/"), 403)
    assert body["code"] == "permission_denied"


def test_unexpected_exception_is_500_problem_without_internals(user: User) -> None:
    from django.test import override_settings
    from django.urls import path
    from rest_framework.permissions import AllowAny
    from rest_framework.views import APIView

    class Broken(APIView):
        permission_classes = (AllowAny,)

        def get(self, request: object) -> None:
            raise RuntimeError("secret internal detail")

    urls = type(
        "urls",
        (),
        {
            "urlpatterns": [path("api/v1/broken/", Broken.as_view())],
            "handler500": "core.api.exceptions.server_error",
        },
    )
    client = APIClient(raise_request_exception=False)
    with override_settings(ROOT_URLCONF=urls):
        response = client.get("/api/v1/broken/")
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.content.decode()
    assert body["code"] == "internal_error"


def test_oversized_request_body_is_413_problem(api_client: APIClient, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # type: ignore[attr-defined]
    response = api_client.post("/api/v1/api-keys/", {"name": "x" * 5000}, format="json")
    assert assert_problem(response, 413)["code"] == "request_too_large"


def test_page_404_is_an_html_page_not_problem_json() -> None:
    from django.test import Client

    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content
