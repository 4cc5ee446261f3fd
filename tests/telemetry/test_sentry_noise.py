"""What Sentry is spared: requests for hosts the site does not serve are refused, not reported."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sentry_sdk
from django.test import Client

from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db


def test_a_request_for_a_foreign_host_is_refused_without_a_sentry_event(
    sentry_server: RecordingServer, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["phonoglyph.example"]

    refused = Client().get("/healthz", HTTP_HOST="scanner.invalid")
    logging.getLogger("monitoring").error("an error after the refused request")

    assert refused.status_code == 400
    sentry_sdk.flush(timeout=5)
    sentry_server.wait_for(lambda server: "after the refused" in json.dumps(server.sentry_events()))
    reported = json.dumps(sentry_server.sentry_events())
    assert "Invalid HTTP_HOST" not in reported
    assert "scanner.invalid" not in reported
