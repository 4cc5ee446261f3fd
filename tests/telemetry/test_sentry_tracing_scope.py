"""Which requests Sentry traces: API calls and pages, never probes, scrapes or static files."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from accounts.models import User
from accounts.services import api_key_create
from tests.support.servers import RecordingServer

# The WSGI handler (the entry point Sentry instruments) closes the connection after each request,
# which only a committed test database survives.
pytestmark = pytest.mark.django_db(transaction=True)


def _get(path: str, headers: dict[str, str] | None = None) -> str:
    statuses: list[str] = []

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    environ = RequestFactory().get(path, headers=headers).environ
    response = WSGIHandler()(environ, start_response)
    b"".join(response)
    # As a WSGI server does once the body is written; a traced request's transaction is sent then.
    response.close()
    return statuses[0]


def _transaction_names(server: RecordingServer) -> list[str]:
    sentry_sdk.flush(timeout=5)
    return [item["transaction"] for item in server.sentry_items("transaction")]


def test_probes_scrapes_and_static_files_are_not_traced_while_api_calls_are(
    sentry_server: RecordingServer, user: User
) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/static/css/site.css", "/favicon.ico"):
        _get(path)
    status = _get("/api/v1/me/", {"Authorization": f"Bearer {api_key_create(user=user).raw}"})

    assert status.startswith("200")
    sentry_server.wait_for(lambda server: bool(server.sentry_items("transaction")))
    assert _transaction_names(sentry_server) == ["/api/v1/me/"]


def test_a_trace_begun_upstream_keeps_its_sampling_decision(
    sentry_server: RecordingServer,
) -> None:
    dropped_trace, kept_trace, span_id = (
        "1" * 32,
        "771a43a4192642f0b136d5159a501700",
        "b0e6f15b45c36b12",
    )

    _get("/api/v1/me/", {"sentry-trace": f"{dropped_trace}-{span_id}-0"})
    _get("/api/v1/me/", {"sentry-trace": f"{kept_trace}-{span_id}-1"})

    sentry_server.wait_for(lambda server: bool(server.sentry_items("transaction")))
    sentry_sdk.flush(timeout=5)
    [transaction] = sentry_server.sentry_items("transaction")
    assert transaction["contexts"]["trace"]["trace_id"] == kept_trace
    assert transaction["contexts"]["trace"]["parent_span_id"] == span_id
