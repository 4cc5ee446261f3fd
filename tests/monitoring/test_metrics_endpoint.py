"""`/metrics` exposes the application's metrics to authorised scrapers only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import User
from phonoglyph.celery import app as celery_app
from telemetry.reporting import (
    observe_alert_firing,
    observe_analysis,
    observe_credits,
    observe_upload_rejected,
)
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import write_wav

pytestmark = pytest.mark.django_db

METRICS = "/metrics"


def _scrape(client: Client, **extra: Any) -> str:
    response = client.get(METRICS, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_cover_requests_uploads_credits_analysis_and_alerts(
    api_client: APIClient, client: Client
) -> None:
    assert api_client.get(reverse("api:me")).status_code == 200
    observe_upload_rejected("unsupported_format")
    observe_credits("reserved", 3)
    observe_credits("captured", 2)
    observe_credits("released", 1)
    observe_analysis(duration_seconds=4.2, audio_seconds=180.0, outcome="succeeded")
    observe_alert_firing("critical", 2)

    text = _scrape(client)

    assert (
        'phonoglyph_http_request_duration_seconds_count{method="GET",route="api:me",status="200"}'
        in text
    )
    assert 'phonoglyph_upload_rejections_total{code="unsupported_format"}' in text
    for movement in ("reserved", "captured", "released"):
        assert f'phonoglyph_credits_total{{movement="{movement}"}}' in text
    assert 'phonoglyph_analysis_processing_duration_seconds_count{outcome="succeeded"}' in text
    assert 'phonoglyph_analysis_audio_duration_seconds_count{outcome="succeeded"}' in text
    assert 'phonoglyph_alerts_firing{severity="critical"} 2.0' in text
    assert "phonoglyph_celery_tasks_total" in text
    assert "phonoglyph_celery_task_duration_seconds" in text
    assert "/api/v1/me/" not in text


def test_metrics_refuse_callers_without_the_token_when_one_is_set(
    settings: Any, client: Client
) -> None:
    settings.PHONOGLYPH_METRICS_TOKEN = "scrape-token-0123456789"

    anonymous = client.get(METRICS)
    wrong = client.get(METRICS, HTTP_AUTHORIZATION="Bearer not-the-token")

    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json()["code"] == "not_authenticated"
    assert wrong.status_code == 401
    assert "phonoglyph_" in _scrape(client, HTTP_AUTHORIZATION="Bearer scrape-token-0123456789")


def test_metrics_answer_only_allowed_addresses_when_an_allow_list_is_set(
    settings: Any, client: Client
) -> None:
    settings.PHONOGLYPH_METRICS_ALLOWED_IPS = ["10.20.0.0/16"]

    assert client.get(METRICS, REMOTE_ADDR="10.30.1.1").status_code == 403
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1").status_code == 403
    assert "phonoglyph_" in _scrape(client, REMOTE_ADDR="10.20.4.5")


def test_metrics_without_token_or_allow_list_answer_loopback_only(client: Client) -> None:
    assert client.get(METRICS, REMOTE_ADDR="203.0.113.9").status_code == 403
    assert "phonoglyph_" in _scrape(client, REMOTE_ADDR="::1")


def test_queue_depth_is_read_from_the_redis_broker(
    settings: Any, client: Client, redis_url: str
) -> None:
    import redis

    broker = redis_url
    settings.CELERY_BROKER_URL = broker
    settings.PHONOGLYPH_MONITORED_QUEUES = ["monitoring-test-queue"]
    connection = redis.Redis.from_url(broker)
    connection.delete("monitoring-test-queue", "monitoring-test-queue\x06\x163")
    try:
        connection.lpush("monitoring-test-queue", "a", "b")
        connection.lpush("monitoring-test-queue\x06\x163", "c")
        text = _scrape(client)
    finally:
        connection.delete("monitoring-test-queue", "monitoring-test-queue\x06\x163")
        connection.close()
    assert 'phonoglyph_celery_queue_depth{queue="monitoring-test-queue"} 3.0' in text


MULTIPROCESS_SCRIPT = """
import sys
import django
django.setup()
from monitoring.exposition import render_metrics
from telemetry.reporting import observe_upload_rejected
observe_upload_rejected("from_another_process")
if sys.argv[1] == "render":
    print(render_metrics().decode())
"""


def test_metrics_from_other_processes_are_merged_under_prometheus_multiproc_dir(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    outputs = [
        subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_SCRIPT, action],
            env=env,
            check=True,
            cwd=django_settings.BASE_DIR,
            capture_output=True,
            text=True,
        ).stdout
        for action in ("write", "render")
    ]
    assert 'phonoglyph_upload_rejections_total{code="from_another_process"} 2.0' in outputs[1]


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db(transaction=True)
def test_metrics_after_real_uploads_and_an_analysis(
    settings: Any, tmp_path: Path, api_client: APIClient, user: User, client: Client
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    wav = write_wav(tmp_path / "take.wav", click_track_with_chord(seconds=4.0))
    not_audio = tmp_path / "page.mp3"
    not_audio.write_bytes(b"<!doctype html><html><body>not audio</body></html>")
    task = "analysis.tasks.analysis_job_run"
    before = {
        "tasks": _value("phonoglyph_celery_tasks_total", task=task, outcome="succeeded"),
        "analysed": _value(
            "phonoglyph_analysis_processing_duration_seconds_count", outcome="succeeded"
        ),
        "audio": _value("phonoglyph_analysis_audio_duration_seconds_count", outcome="succeeded"),
        "reserved": _value("phonoglyph_credits_total", movement="reserved"),
        "captured": _value("phonoglyph_credits_total", movement="captured"),
    }
    rejections_before = sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "phonoglyph_upload_rejections"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    give_credits(user)
    previous_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with wav.open("rb") as handle:
            uploaded = api_client.post(reverse("api:media-list"), {"file": handle})
        with not_audio.open("rb") as handle:
            refused = api_client.post(reverse("api:media-list"), {"file": handle})
        started = api_client.post(
            reverse("api:analysis-list"), {"media": uploaded.json()["id"]}, format="json"
        )
    finally:
        celery_app.conf.task_always_eager = previous_eager
    assert uploaded.status_code == 201, uploaded.content
    assert 400 <= refused.status_code < 500
    assert started.status_code == 202, started.content

    text = _scrape(client)

    assert _value("phonoglyph_celery_tasks_total", task=task, outcome="succeeded") == (
        before["tasks"] + 1
    )
    assert (
        _value("phonoglyph_analysis_processing_duration_seconds_count", outcome="succeeded")
        == before["analysed"] + 1
    )
    assert _value("phonoglyph_analysis_audio_duration_seconds_count", outcome="succeeded") == (
        before["audio"] + 1
    )
    assert _value("phonoglyph_credits_total", movement="reserved") > before["reserved"]
    assert _value("phonoglyph_credits_total", movement="captured") > before["captured"]
    rejections_after = sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "phonoglyph_upload_rejections"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    assert rejections_after == rejections_before + 1
    assert (
        'phonoglyph_http_request_duration_seconds_count{method="POST",route="api:media-list",'
        'status="201"}' in text
    )
    assert f'phonoglyph_celery_task_duration_seconds_count{{task="{task}"}}' in text


def test_request_labels_never_carry_paths_or_invented_methods(
    api_client: APIClient, client: Client
) -> None:
    api_client.get("/api/v1/no-such-thing-4711/")
    client.get("/no-such-page-4711/")
    api_client.generic("BREW", reverse("api:me"))

    text = _scrape(client)

    assert "no-such-thing-4711" not in text
    assert "no-such-page-4711" not in text
    assert 'method="BREW"' not in text
    assert 'method="other",route="api:me",status="405"' in text
    assert 'method="GET",route="api-path-unknown",status="404"' in text
    assert 'method="GET",route="<unmatched>",status="404"' in text
