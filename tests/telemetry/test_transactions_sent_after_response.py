"""A traced request's transaction is sent once its response is delivered, never lost."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponseBase
from django.test import RequestFactory

from accounts.models import User
from accounts.services import api_key_create
from telemetry.tracing import drain_transactions
from tests.support.servers import RecordingServer

# The WSGI handler closes the connection after each request, which only a committed test
# database survives.
pytestmark = pytest.mark.django_db(transaction=True)


def _serve(path: str, auth: str) -> HttpResponseBase:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        assert status.startswith("200"), status
        return None

    environ = RequestFactory().get(path, HTTP_AUTHORIZATION=auth).environ
    response = WSGIHandler()(environ, start_response)
    b"".join(response)
    return response


def _transaction_count(server: RecordingServer) -> int:
    sentry_sdk.flush(timeout=5)
    return len(server.sentry_items("transaction"))


def test_the_transaction_leaves_when_the_server_closes_the_delivered_response(
    sentry_server: RecordingServer, user: User
) -> None:
    auth = f"Bearer {api_key_create(user=user).raw}"
    response = _serve("/api/v1/me/", auth)

    assert _transaction_count(sentry_server) == 0
    response.close()
    sentry_server.wait_for(lambda server: bool(server.sentry_items("transaction")))
    [transaction] = sentry_server.sentry_items("transaction")
    assert transaction["transaction"] == "/api/v1/me/"


def test_a_response_the_server_never_closes_still_has_its_transaction_sent(
    sentry_server: RecordingServer, user: User
) -> None:
    auth = f"Bearer {api_key_create(user=user).raw}"
    _serve("/api/v1/me/", auth)
    _serve("/api/v1/api-keys/", auth).close()
    drain_transactions()

    sentry_server.wait_for(lambda server: len(server.sentry_items("transaction")) >= 2)
    names = sorted(item["transaction"] for item in sentry_server.sentry_items("transaction"))
    assert names == ["/api/v1/api-keys/", "/api/v1/me/"]
