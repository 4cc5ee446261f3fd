"""The default rules exist after migrating, and the evaluate_alerts command runs them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from monitoring.models import AlertRule
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory

pytestmark = pytest.mark.django_db


def test_the_eight_default_rules_are_seeded():
    rules = {
        rule.metric: (rule.comparison, rule.threshold, rule.severity)
        for rule in AlertRule.objects.all()
    }

    assert rules == {
        "queue_depth": ("gt", 100, "high"),
        "analysis_mean_processing_seconds": ("gt", 300, "high"),
        "analysis_failure_rate": ("gt", 5, "high"),
        "analysis_success_rate": ("lt", 95, "medium"),
        "storage_failing": ("gt", 0, "critical"),
        "workers_alive": ("lt", 1, "critical"),
        "analysis_jobs_over_time_limit": ("gt", 0, "medium"),
        "ledger_drift": ("ne", 0, "critical"),
    }


def test_evaluate_alerts_command_fires_and_delivers(alert_settings, slack_endpoint):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    out = StringIO()

    call_command("evaluate_alerts", stdout=out)

    assert "fired=1" in out.getvalue()
    assert "sent=1" in out.getvalue()
    assert len(slack_endpoint.received) == 1


def test_evaluate_alerts_command_can_leave_delivery_to_the_task(alert_settings, slack_endpoint):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    out = StringIO()

    call_command("evaluate_alerts", "--no-deliver", stdout=out)

    assert "fired=1" in out.getvalue()
    assert slack_endpoint.received == []


def test_beat_runs_evaluation_and_delivery_every_thirty_seconds(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert schedule["monitoring-alerts-evaluate"]["task"] == "monitoring.tasks.alerts_evaluate"
    assert schedule["monitoring-alerts-evaluate"]["schedule"] == 30.0
    assert schedule["monitoring-notifications-deliver"]["schedule"] == 30.0


def test_evaluation_and_delivery_are_registered_celery_tasks():
    from phonoglyph.celery import app

    app.loader.import_default_modules()

    assert "monitoring.tasks.alerts_evaluate" in app.tasks
    assert "monitoring.tasks.notifications_deliver" in app.tasks
