"""/healthz, /readyz and the staff-only pipeline-health and processing-metrics endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.monitoring.factories import AnalysisJobFactory

pytestmark = pytest.mark.django_db

PIPELINE_HEALTH = "/api/v1/monitoring/pipeline-health/"
PROCESSING_METRICS = "/api/v1/monitoring/processing-metrics/"


def test_healthz_answers_without_touching_dependencies(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_200_when_database_cache_and_storage_answer(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)

    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "storage"}


def test_readyz_is_503_naming_the_broken_storage(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["failing"] == ["storage"]
    assert body["checks"]["storage"]["healthy"] is False
    assert "error" not in body["checks"]["storage"]


def test_pipeline_health_lists_every_check_and_an_overall(staff_api_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }

    response = staff_api_client.get(PIPELINE_HEALTH)

    assert response.status_code == 200
    body = response.json()
    assert set(body["checks"]) == {
        "database",
        "cache",
        "storage",
        "queues",
        "workers",
        "analysis",
        "stem_separation",
        "ledger",
    }
    for name, check in body["checks"].items():
        assert check["service"] == name
        assert {"healthy", "metrics", "checked_at", "latency_ms"} <= set(check)
    assert body["overall"]["failing"] == [
        name for name, check in body["checks"].items() if not check["healthy"]
    ]
    assert body["overall"]["healthy"] is (body["overall"]["failing"] == [])


@pytest.mark.parametrize("url", [PIPELINE_HEALTH, PROCESSING_METRICS, "/api/v1/monitoring/alerts/"])
def test_monitoring_api_refuses_non_staff_with_403_problem(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "permission_denied"


def test_monitoring_api_asks_anonymous_callers_to_authenticate(anon_client):
    response = anon_client.get(PIPELINE_HEALTH)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_processing_metrics_report_known_timings(staff_api_client):
    now = timezone.now()
    for seconds in (10.0, 20.0, 30.0, 40.0):
        AnalysisJobFactory.create(
            processing_seconds=seconds, finished_at=now - timedelta(minutes=10)
        )

    response = staff_api_client.get(PROCESSING_METRICS, {"time_range": "1h", "service": "all"})

    assert response.status_code == 200
    body = response.json()
    assert body["time_range"] == "1h"
    analysis = body["services"]["analysis"]
    assert analysis["total_operations"] == 4
    assert analysis["success_rate"] == 100.0
    assert analysis["mean_seconds"] == 25.0
    assert analysis["p50_seconds"] == 25.0
    assert analysis["p95_seconds"] == pytest.approx(38.5)
    assert analysis["throughput_per_hour"] == 4.0
    assert analysis["bucket_seconds"] == 300
    assert len(analysis["timeline"]) == 12
    assert sum(point["total_operations"] for point in analysis["timeline"]) == 4
    stems = body["services"]["stem_separation"]
    assert stems["available"] is True
    assert stems["total_operations"] == 0
    assert stems["p50_seconds"] is None
    assert len(stems["timeline"]) == 12


@pytest.mark.parametrize(
    ("time_range", "buckets"), [("1h", 12), ("24h", 24), ("7d", 28), ("30d", 30)]
)
def test_processing_metrics_timeline_fits_the_range(staff_api_client, time_range, buckets):
    response = staff_api_client.get(
        PROCESSING_METRICS, {"time_range": time_range, "service": "analysis"}
    )

    assert response.status_code == 200
    assert list(response.json()["services"]) == ["analysis"]
    assert len(response.json()["services"]["analysis"]["timeline"]) == buckets


@pytest.mark.parametrize(
    ("params", "field"),
    [({"time_range": "2h"}, "time_range"), ({"service": "mastering"}, "service")],
)
def test_processing_metrics_reject_unknown_values_with_400_problem(staff_api_client, params, field):
    response = staff_api_client.get(PROCESSING_METRICS, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
