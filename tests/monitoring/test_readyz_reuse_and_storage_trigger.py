"""/readyz reuses its results for a few seconds and writes to storage only for trusted callers."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _storage_writes(tmp_path) -> int:
    directory = tmp_path / "monitoring-health"
    return 0 if not directory.exists() else 1


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def test_a_public_caller_gets_no_storage_check(media_root) -> None:
    response = Client(REMOTE_ADDR="203.0.113.5").get("/readyz")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "cache"}
    assert not (media_root / "monitoring-health").exists()


def test_a_caller_with_the_metrics_token_gets_the_storage_check(settings, media_root) -> None:
    settings.PHONOGLYPH_METRICS_TOKEN = "probe-token"
    client = Client(REMOTE_ADDR="203.0.113.5")
    public = client.get("/readyz")
    trusted = client.get("/readyz", HTTP_AUTHORIZATION="Bearer probe-token")
    assert set(public.json()["checks"]) == {"database", "cache"}
    assert set(trusted.json()["checks"]) == {"database", "cache", "storage"}
    assert trusted.status_code == 200


def test_results_are_reused_for_the_configured_seconds(settings, media_root) -> None:
    settings.PHONOGLYPH_READYZ_CACHE_SECONDS = 60.0
    first = Client().get("/readyz")
    assert first.status_code == 200
    blocker = media_root / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)
    # Storage is now broken, but for a minute callers get the results already measured.
    again = [Client().get("/readyz") for _ in range(5)]
    assert [response.status_code for response in again] == [200] * 5
    assert {response.json()["checks"]["storage"]["latency_ms"] for response in again} == {
        first.json()["checks"]["storage"]["latency_ms"]
    }
    settings.PHONOGLYPH_READYZ_CACHE_SECONDS = 0.0
    assert Client().get("/readyz").status_code == 503
