from __future__ import annotations

import json
import logging

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from core.logging import JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(RequestContextFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> object:
    handler = _Capture()
    logger = logging.getLogger("phonoglyph.access")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_incoming_request_id_is_echoed(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/me/", HTTP_X_REQUEST_ID="abc-12345-def")
    assert response["X-Request-ID"] == "abc-12345-def"


def test_invalid_request_id_is_replaced_by_a_generated_one(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/me/", HTTP_X_REQUEST_ID="bad id\r\nInjected: 1")
    assert response["X-Request-ID"] != "bad id\r\nInjected: 1"
    assert len(response["X-Request-ID"]) == 32


def test_request_id_and_user_id_appear_in_json_log_lines(
    api_client: APIClient, captured_logs: _Capture, user: User
) -> None:
    api_client.get("/api/v1/me/", HTTP_X_REQUEST_ID="trace-0001-xyz")
    record = json.loads(captured_logs.lines[-1])
    assert record["request_id"] == "trace-0001-xyz"
    assert record["user_id"] == user.pk
    assert record["level"] == "INFO"
    assert record["logger"] == "phonoglyph.access"
    assert record["status"] == 200
    assert record["route"] == "api/v1/me/"
