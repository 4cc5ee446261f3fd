"""The staff "Pipeline health" page in the admin: checks, alerts with actions, charts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis.models import AnalysisJob
from monitoring import services
from monitoring.models import Alert
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory, AnalysisJobFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/monitoring/alert/pipeline-health/"


@pytest.fixture
def staff_client(staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def firing(alert_settings):
    AlertRuleFactory.create(name="Queue backed up", severity="high")
    set_queue_depth(alert_settings, 7)
    services.alerts_evaluate(now=timezone.now())
    return Alert.objects.get()


def test_admin_index_links_to_the_pipeline_health_page(staff_client):
    response = staff_client.get("/admin/")

    assert response.status_code == 200
    assert DASHBOARD in response.content.decode()
    assert reverse("admin:monitoring_pipeline_health") == DASHBOARD


def test_dashboard_shows_checks_alerts_queues_failures_and_charts(staff_client, firing):
    now = timezone.now()
    for seconds in (5.0, 15.0):
        AnalysisJobFactory.create(
            processing_seconds=seconds, finished_at=now - timedelta(minutes=30)
        )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.FAILED,
        error_code="decode_failed",
        finished_at=now - timedelta(minutes=20),
    )

    response = staff_client.get(DASHBOARD)

    assert response.status_code == 200
    page = response.content.decode()
    for service in ("database", "cache", "storage", "queues", "workers", "analysis", "ledger"):
        assert f"pg-check-{service}" in page
    assert "Queue backed up" in page
    assert f'action="/admin/monitoring/alert/{firing.pk}/acknowledge/"' in page
    assert f'action="/admin/monitoring/alert/{firing.pk}/resolve/"' in page
    assert "csrfmiddlewaretoken" in page
    assert re.search(r'<tr class="pg-queue"><td>celery</td><td>7</td></tr>', page)
    assert re.search(r'<tr class="pg-failure"><td>decode_failed</td><td>1</td></tr>', page)
    assert page.count('class="pg-bar"') == 24
    assert re.search(r'<polyline class="pg-line pg-p50" points="[\d. ,]+"', page)
    # Updates arrive through a polite live region, not a meta refresh (WCAG 2.2.1).
    assert 'http-equiv="refresh"' not in page
    assert 'data-refresh-seconds="30"' in page
    assert 'aria-live="polite"' in page
    assert "Stem separation: 0 finished" in page


def test_dashboard_has_no_inline_script_or_style(staff_client, firing):
    page = staff_client.get(DASHBOARD).content.decode()
    ours = page[page.index('<div id="pipeline-health">') :]

    assert "<script" not in ours
    assert " style=" not in ours
    assert "<style" not in ours


def test_dashboard_shows_credits_used_by_feature(staff_client, user):
    from billing.services import credits_capture, credits_grant, credits_reserve

    credits_grant(user=user, amount=50, reason="test grant")
    credits_reserve(user=user, amount=12, feature="analysis", job_ref="analysis:1")
    credits_capture(job_ref="analysis:1", feature="analysis", usage_quantity=60)

    page = staff_client.get(DASHBOARD).content.decode()

    assert re.search(
        r'<tr class="pg-credits"><td>analysis</td><td>12 credits</td><td>1 uses</td></tr>', page
    )


def test_acknowledge_and_resolve_buttons_change_the_alert(staff_client, firing):
    response = staff_client.post(f"/admin/monitoring/alert/{firing.pk}/acknowledge/")
    assert response.status_code == 302
    firing.refresh_from_db()
    assert firing.state == "acknowledged"

    staff_client.post(f"/admin/monitoring/alert/{firing.pk}/resolve/")
    firing.refresh_from_db()
    assert firing.state == "resolved"


def test_acknowledge_needs_a_post(staff_client, firing):
    response = staff_client.get(f"/admin/monitoring/alert/{firing.pk}/acknowledge/")

    assert response.status_code == 405


def test_dashboard_is_for_staff_only(user):
    client = Client()
    client.force_login(user)

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", ["alertrule", "alert", "silence", "notificationdelivery"])
def test_admin_lists_rules_alerts_silences_and_deliveries(staff_client, firing, model):
    response = staff_client.get(f"/admin/monitoring/{model}/")

    assert response.status_code == 200
