"""Fault drill: break storage, stop the worker; the alerts fire within two evaluation
intervals, reach Slack, and resolve (with a notice) once the fault is repaired.

Evaluations run as the beat task would, one every PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS
of simulated time; the faults and the worker are real.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from monitoring import health, services
from monitoring.models import Alert, AlertRule
from tests.support.workers import Worker, worker_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DRILL_REDIS_DB = 15


class Clock:
    """Evaluation ticks, `interval` seconds apart, each followed by a delivery run."""

    def __init__(self, interval: int) -> None:
        self.now = timezone.now()
        self.interval = timedelta(seconds=interval)
        self.ticks = 0

    def tick(self) -> None:
        self.now += self.interval
        self.ticks += 1
        report = services.alerts_evaluate(now=self.now)
        assert report.errors == []
        assert report.unmeasured == []
        services.notifications_deliver(now=self.now)


def only_default_rule(name: str) -> AlertRule:
    """Keep the seeded rule `name` and switch the others off."""
    AlertRule.objects.exclude(name=name).update(enabled=False)
    return AlertRule.objects.get(name=name)


def ticks_until_firing(clock: Clock, rule: AlertRule, limit: int) -> int:
    start = clock.ticks
    while clock.ticks - start < limit:
        clock.tick()
        if Alert.objects.filter(rule=rule, state="firing").exists():
            return clock.ticks - start
    return limit + 1


@pytest.fixture
def drill_settings(settings, slack_endpoint, tmp_path):
    settings.PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL = slack_endpoint.url
    settings.PHONOGLYPH_ALERT_ROUTES = "critical:slack"
    settings.PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS = 2.0
    settings.PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS = 3.0
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings


def test_broken_storage_alerts_within_two_intervals_and_resolves_after_repair(
    drill_settings, slack_endpoint, tmp_path
):
    rule = only_default_rule("Storage failing")
    clock = Clock(django_settings.PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS)
    clock.tick()
    assert not Alert.objects.exists()

    media_root = tmp_path / "media"
    shutil.rmtree(media_root, ignore_errors=True)
    media_root.write_text("storage root replaced by a file: every write fails")

    assert ticks_until_firing(clock, rule, limit=2) <= 2
    alert = Alert.objects.get(rule=rule)
    assert alert.severity == "critical"
    assert "storage" in slack_endpoint.bodies()[0]["text"]

    media_root.unlink()
    media_root.mkdir()
    clock.tick()

    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert [body["text"].split("]")[0] for body in slack_endpoint.bodies()] == [
        "[FIRING",
        "[RESOLVED",
    ]


def wait_for_workers(alive: bool, worker: Worker, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health.check_workers().healthy is alive:
            return
        time.sleep(0.5)
    raise AssertionError(f"workers alive={alive} not seen; worker log:\n{worker.output()}")


def test_stopped_worker_alerts_within_two_intervals_and_resolves_on_restart(
    drill_settings, slack_endpoint, redis_url, tmp_path
):
    # A ping is broadcast to every worker on the broker, so the drill needs a broker no other
    # worker (another test run, a developer's worker) listens on: its own Redis database.
    broker_url = redis_url.rsplit("/", 1)[0] + f"/{DRILL_REDIS_DB}"
    drill_settings.CELERY_BROKER_URL = broker_url
    rule = only_default_rule("Workers down")
    clock = Clock(django_settings.PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS)

    def start(name: str) -> Worker:
        return worker_start(name=name, queue_name="celery", broker=broker_url, log_dir=tmp_path)

    worker = start(f"drill-{os.getpid()}")
    try:
        wait_for_workers(True, worker)
        clock.tick()
        assert not Alert.objects.exists()

        worker.stop()
        assert ticks_until_firing(clock, rule, limit=2) <= 2
        assert "workers" in slack_endpoint.bodies()[0]["text"]

        worker = start(f"drill-{os.getpid()}-restarted")
        wait_for_workers(True, worker)
        clock.tick()
    finally:
        worker.stop()

    alert = Alert.objects.get(rule=rule)
    assert alert.state == "resolved"
    assert len(slack_endpoint.received) == 2
