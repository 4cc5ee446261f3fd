"""Shared fixtures: users, API clients, and the service requirements of CI."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from tests.factories import UserFactory
from tests.support.servers import RecordingServer

REQUIRE_SERVICES = os.environ.get("PHONOGLYPH_REQUIRE_SERVICES") == "1"


def require_service(variable: str, what: str) -> str:
    """Return the URL in `variable`, or skip; under PHONOGLYPH_REQUIRE_SERVICES=1, fail."""
    value = os.environ.get(variable, "")
    if not value:
        message = f"{what} tests need {variable}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping)")
        pytest.skip(message)
    return value


@pytest.fixture
def postgres_url(settings: object) -> str:
    url = require_service("DATABASE_URL", "PostgreSQL")
    from django.db import connection

    if connection.vendor != "postgresql":
        message = f"DATABASE_URL does not point at PostgreSQL ({connection.vendor})"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def redis_url() -> str:
    return require_service("REDIS_URL", "Redis")


@pytest.fixture
def rabbitmq_url() -> str:
    return require_service("RABBITMQ_URL", "RabbitMQ")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    from core.ratelimit import rate_limit_reset_local

    cache.clear()
    rate_limit_reset_local()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def staff_user(db: None) -> User:
    return UserFactory.create(is_staff=True)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client(user: User) -> APIClient:
    """An API client authenticated with a real API key of `user`, allowed to manage keys."""
    client = APIClient()
    created = api_key_create(user=user, scopes=[ApiKey.Scope.API_KEYS])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw}")
    return client


@pytest.fixture
def staff_api_client(staff_user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=staff_user).raw}")
    return client


# Monitoring: alerting fixtures (loopback Slack and webhook endpoints, routed alert settings).
@pytest.fixture
def slack_endpoint():
    endpoint = RecordingServer().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def webhook_endpoint():
    endpoint = RecordingServer().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def alert_settings(settings, slack_endpoint, webhook_endpoint, tmp_path):
    """Every channel configured against loopback; the seeded rules removed; a file broker.

    The filesystem broker's folder is `settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ["data_folder_in"]`: dropping `<n>.celery.msg` files there sets the `celery` queue depth.
    """
    from monitoring.models import AlertRule

    AlertRule.objects.all().delete()
    broker = tmp_path / "broker"
    broker.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker),
        "data_folder_out": str(broker),
        "control_folder": str(tmp_path / "broker-control"),
    }
    settings.PHONOGLYPH_MONITORED_QUEUES = ["celery"]
    settings.PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL = slack_endpoint.url
    settings.PHONOGLYPH_ALERT_WEBHOOK_URL = webhook_endpoint.url
    settings.PHONOGLYPH_ALERT_WEBHOOK_SECRET = "webhook-test-secret"
    settings.PHONOGLYPH_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    settings.PHONOGLYPH_ALERT_ROUTES = "critical:sentry,slack,email;high:sentry,slack;medium:slack"
    settings.PHONOGLYPH_ALERT_ESCALATION_CHANNELS = ["webhook"]
    settings.PHONOGLYPH_ALERT_RATE_LIMIT_BURST = 100
    settings.PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS = 2.0
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings


# Telemetry: Sentry pointed at a loopback server; the telemetry tests read what it received,
# and so do the monitoring tests whose alerts go to Sentry.
@pytest.fixture
def recording_server():
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def sentry_server(recording_server):
    """Sentry initialised with a DSN whose host is the recording server (project 42)."""
    from tests.support.sentry import sentry_start, sentry_stop

    sentry_start(port=recording_server.port, traces_sample_rate=1.0)
    yield recording_server
    sentry_stop()


@pytest.fixture
def unreachable_redis(settings):
    """Point the cache at a closed loopback port, with the rate limits' fallback as deployed."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        },
        "ratelimit": {"BACKEND": "core.cache.ResilientCache", "LOCATION": "default"},
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    return url
