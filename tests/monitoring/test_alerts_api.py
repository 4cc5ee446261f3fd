"""Staff list, acknowledge and resolve alerts through the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from monitoring import services
from monitoring.models import Alert, NotificationDelivery
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/monitoring/alerts/"


@pytest.fixture
def firing_alert(alert_settings):
    AlertRuleFactory.create(name="Queue backed up", severity="medium")
    set_queue_depth(alert_settings, 5)
    services.alerts_evaluate(now=timezone.now())
    return Alert.objects.get()


def test_firing_alerts_are_listed_with_their_rule_and_labels(staff_api_client, firing_alert):
    response = staff_api_client.get(ALERTS, {"state": "firing"})

    assert response.status_code == 200
    [alert] = response.json()["results"]
    assert alert["id"] == firing_alert.pk
    assert alert["rule"] == "Queue backed up"
    assert alert["state"] == "firing"
    assert alert["labels"] == {"queue": "celery"}
    assert alert["value"] == 5.0
    assert staff_api_client.get(ALERTS, {"state": "resolved"}).json()["results"] == []


def test_unknown_state_filter_is_a_400_problem(staff_api_client):
    response = staff_api_client.get(ALERTS, {"state": "burning"})

    assert response.status_code == 400
    assert "state" in response.json()["errors"]


def test_acknowledging_records_who_and_stops_listing_it_as_firing(
    staff_api_client, staff_user, firing_alert
):
    response = staff_api_client.post(f"{ALERTS}{firing_alert.pk}/acknowledge/")

    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_by"] == staff_user.email
    assert staff_api_client.get(ALERTS, {"state": "firing"}).json()["results"] == []


def test_acknowledging_twice_is_a_409_problem(staff_api_client, firing_alert):
    staff_api_client.post(f"{ALERTS}{firing_alert.pk}/acknowledge/")

    response = staff_api_client.post(f"{ALERTS}{firing_alert.pk}/acknowledge/")

    assert response.status_code == 409
    assert response.json()["code"] == "alert_state_conflict"
    assert response.json()["state"] == "acknowledged"


def test_resolving_by_hand_sends_the_resolved_notice(
    staff_api_client, firing_alert, slack_endpoint
):
    response = staff_api_client.post(f"{ALERTS}{firing_alert.pk}/resolve/")

    assert response.status_code == 200
    assert response.json()["state"] == "resolved"
    assert NotificationDelivery.objects.filter(kind="resolved", channel="slack").count() == 1
    again = staff_api_client.post(f"{ALERTS}{firing_alert.pk}/resolve/")
    assert again.status_code == 409


def test_unknown_alert_is_a_404_problem(staff_api_client):
    response = staff_api_client.post(f"{ALERTS}999999/resolve/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_non_staff_cannot_acknowledge(api_client, firing_alert):
    response = api_client.post(f"{ALERTS}{firing_alert.pk}/acknowledge/")

    assert response.status_code == 403
    firing_alert.refresh_from_db()
    assert firing_alert.state == "firing"
