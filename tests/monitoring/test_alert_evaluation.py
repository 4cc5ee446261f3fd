"""Evaluation keeps going past broken measurements and publishes what is firing."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import services
from monitoring.models import Alert, AlertRule
from telemetry.metrics import ALERTS_FIRING
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory

pytestmark = pytest.mark.django_db


def gauge(severity: str) -> float:
    value: float = ALERTS_FIRING.labels(severity=severity)._value.get()
    return value


def test_firing_alerts_are_published_by_severity(alert_settings, staff_user):
    AlertRuleFactory.create(severity="high")
    AlertRuleFactory.create(severity="high", threshold=3)
    AlertRuleFactory.create(severity="medium", threshold=100)
    set_queue_depth(alert_settings, 5)

    services.alerts_evaluate(now=timezone.now())

    assert gauge("high") == 2
    assert gauge("medium") == 0
    set_queue_depth(alert_settings, 0)
    services.alerts_evaluate(now=timezone.now() + timedelta(seconds=30))
    assert gauge("high") == 0


def test_an_unmeasurable_metric_leaves_open_alerts_alone(alert_settings):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    services.alerts_evaluate(now=now)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    alert_settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"

    report = services.alerts_evaluate(now=now + timedelta(seconds=30))

    assert report.unmeasured == [Alert.objects.get().rule.name]
    assert Alert.objects.get().state == "firing"


def test_one_failing_rule_does_not_stop_the_others(alert_settings, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker)
    AlertRuleFactory.create(name="storage", metric="storage_failing", threshold=0)
    AlertRuleFactory.create(name="drift", metric="ledger_drift", comparison="ne", threshold=0)
    AlertRuleFactory.create(name="queue", severity="medium")
    set_queue_depth(alert_settings, 5)

    report = services.alerts_evaluate(now=timezone.now())

    assert sorted(Alert.objects.values_list("rule__name", flat=True)) == ["queue", "storage"]
    assert report.errors == []


def test_disabling_a_rule_resolves_its_alerts(alert_settings):
    rule = AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    services.alerts_evaluate(now=now)

    rule.enabled = False
    rule.save()
    services.alerts_evaluate(now=now + timedelta(seconds=30))

    assert Alert.objects.get().state == "resolved"


def test_ledger_drift_fires_the_seeded_critical_rule(settings, user):
    from django.db.models import F

    from billing.models import CreditAccount
    from billing.services import credits_grant

    AlertRule.objects.exclude(name="Ledger drift").update(enabled=False)
    credits_grant(user=user, amount=20, reason="test grant")
    now = timezone.now()
    services.alerts_evaluate(now=now)
    assert not Alert.objects.exists()

    CreditAccount.objects.filter(user=user).update(credits_posted=F("credits_posted") + 7)
    services.alerts_evaluate(now=now + timedelta(seconds=30))

    alert = Alert.objects.get()
    assert alert.severity == "critical"
    assert alert.service == "billing"
    assert alert.value == 7
