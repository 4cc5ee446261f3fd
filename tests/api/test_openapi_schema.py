from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_openapi_schema_builds_without_warnings(tmp_path: object) -> None:
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),  # type: ignore[operator]
    )


def test_schema_is_served_and_lists_the_api(anon_client: APIClient) -> None:
    response = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]


def test_interactive_docs_use_locally_served_assets(anon_client: APIClient) -> None:
    html = anon_client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html
    assert "<style" not in html
