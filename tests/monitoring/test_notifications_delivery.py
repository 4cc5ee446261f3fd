"""A firing alert reaches each routed channel once, and repeats, resolves and silences behave."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from monitoring import services
from monitoring.alerting.notifications import DeliveryReport
from monitoring.models import Alert, DeliveryStatus, NotificationDelivery, Silence
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory

pytestmark = pytest.mark.django_db


def run(now: datetime) -> DeliveryReport:
    services.alerts_evaluate(now=now)
    return services.notifications_deliver(now=now)


def test_firing_critical_alert_is_delivered_once_to_sentry_slack_and_email(
    alert_settings, slack_endpoint, webhook_endpoint, sentry_server
):
    rule = AlertRuleFactory.create(name="Queue backed up", severity="critical", threshold=2)
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    report = run(now)

    assert report.sent == 3
    alert = Alert.objects.get(rule=rule)
    assert alert.state == "firing"
    assert alert.labels == {"queue": "celery"}
    [slack] = slack_endpoint.bodies()
    fields = " ".join(field["text"] for field in slack["blocks"][1]["fields"])
    assert "critical" in fields
    assert "broker" in fields
    assert str(alert.pk) in fields
    assert now.replace(microsecond=0).isoformat() in fields
    assert slack["text"].startswith("[FIRING] [critical] broker:")
    [email] = mail.outbox
    assert email.to == ["ops@example.com", "oncall@example.com"]
    assert f"Alert id: {alert.pk}" in email.body
    sentry_server.wait_for(lambda server: len(server.sentry_events()) == 1)
    [event] = sentry_server.sentry_events()
    assert event["level"] == "fatal"
    assert event["tags"]["alert_id"] == str(alert.pk)
    assert webhook_endpoint.received == []
    statuses = NotificationDelivery.objects.values_list("channel", "status", "attempts")
    assert sorted(statuses) == [
        ("email", "sent", 1),
        ("sentry", "sent", 1),
        ("slack", "sent", 1),
    ]
    assert all(d.duration_ms is not None for d in NotificationDelivery.objects.all())


def test_high_alert_goes_to_sentry_at_error_level_and_slack_only(
    alert_settings, slack_endpoint, sentry_server
):
    AlertRuleFactory.create(severity="high")
    set_queue_depth(alert_settings, 5)

    run(timezone.now())

    assert len(slack_endpoint.received) == 1
    assert mail.outbox == []
    sentry_server.wait_for(lambda server: len(server.sentry_events()) == 1)
    assert sentry_server.sentry_events()[0]["level"] == "error"


def test_repeated_evaluations_update_the_alert_without_sending_again(
    alert_settings, slack_endpoint
):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    for minute in range(5):
        run(now + timedelta(minutes=minute))

    alert = Alert.objects.get()
    assert Alert.objects.count() == 1
    assert alert.count == 5
    assert alert.last_seen == now + timedelta(minutes=4)
    assert len(slack_endpoint.received) == 1


def test_still_firing_alert_is_sent_again_after_the_repeat_interval(alert_settings, slack_endpoint):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    run(now)
    run(now + timedelta(hours=3, minutes=59))
    assert len(slack_endpoint.received) == 1
    run(now + timedelta(hours=4))

    assert len(slack_endpoint.received) == 2
    assert slack_endpoint.bodies()[1]["text"].startswith("[STILL FIRING]")
    run(now + timedelta(hours=4, minutes=1))
    assert len(slack_endpoint.received) == 2


def test_acknowledged_alert_is_not_repeated(alert_settings, slack_endpoint, staff_user):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    run(now)

    services.alert_acknowledge(alert=Alert.objects.get(), user=staff_user)
    run(now + timedelta(hours=5))

    assert len(slack_endpoint.received) == 1


def test_alert_resolves_when_the_condition_clears_and_sends_a_resolved_notice(
    alert_settings, slack_endpoint, sentry_server
):
    AlertRuleFactory.create(severity="high")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    run(now)

    set_queue_depth(alert_settings, 0)
    run(now + timedelta(seconds=30))

    alert = Alert.objects.get()
    assert alert.state == "resolved"
    assert alert.resolved_at == now + timedelta(seconds=30)
    assert [body["text"].split("]")[0] for body in slack_endpoint.bodies()] == [
        "[FIRING",
        "[RESOLVED",
    ]
    sentry_server.wait_for(lambda server: len(server.sentry_events()) == 2)
    assert sentry_server.sentry_events()[1]["level"] == "info"

    set_queue_depth(alert_settings, 5)
    run(now + timedelta(seconds=60))
    assert Alert.objects.count() == 2
    assert len(slack_endpoint.received) == 3


def test_silenced_alert_sends_nothing_but_is_still_tracked(
    alert_settings, slack_endpoint, sentry_server
):
    rule = AlertRuleFactory.create(severity="critical")
    now = timezone.now()
    Silence.objects.create(
        rule=rule,
        matchers={"queue": "celery"},
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    set_queue_depth(alert_settings, 5)

    run(now)
    run(now + timedelta(minutes=20))
    set_queue_depth(alert_settings, 0)
    run(now + timedelta(minutes=21))

    assert Alert.objects.get().state == "resolved"
    assert NotificationDelivery.objects.count() == 0
    assert slack_endpoint.received == []
    assert mail.outbox == []
    assert sentry_server.sentry_events() == []


def test_silence_for_other_labels_does_not_mute(alert_settings, slack_endpoint):
    rule = AlertRuleFactory.create(severity="medium")
    now = timezone.now()
    Silence.objects.create(
        rule=rule,
        matchers={"queue": "analysis"},
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    set_queue_depth(alert_settings, 5)

    run(now)

    assert len(slack_endpoint.received) == 1


def test_unacknowledged_critical_alert_escalates_once_to_the_signed_webhook(
    alert_settings, webhook_endpoint, sentry_server
):
    AlertRuleFactory.create(severity="critical")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    run(now)
    run(now + timedelta(minutes=14, seconds=59))
    assert webhook_endpoint.received == []

    run(now + timedelta(minutes=15))
    run(now + timedelta(minutes=16))
    run(now + timedelta(minutes=45))

    [hit] = webhook_endpoint.received
    expected = hmac.new(b"webhook-test-secret", hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["X-Phonoglyph-Signature"] == f"sha256={expected}"
    body = hit.json()
    assert body["kind"] == "escalation"
    assert body["escalation_level"] == 1
    assert body["alert_id"] == Alert.objects.get().pk
    assert Alert.objects.get().escalation_level == 1


def test_acknowledged_critical_alert_does_not_escalate(
    alert_settings, webhook_endpoint, staff_user, sentry_server
):
    AlertRuleFactory.create(severity="critical")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    run(now)

    services.alert_acknowledge(alert=Alert.objects.get(), user=staff_user)
    run(now + timedelta(minutes=20))

    assert webhook_endpoint.received == []


def test_rule_with_a_for_duration_fires_only_after_it_held_that_long(
    alert_settings, slack_endpoint
):
    AlertRuleFactory.create(severity="medium", for_seconds=60)
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    run(now)
    run(now + timedelta(seconds=30))
    assert Alert.objects.get().state == "pending"
    assert slack_endpoint.received == []

    run(now + timedelta(seconds=60))
    assert Alert.objects.get().state == "firing"
    assert len(slack_endpoint.received) == 1


def test_condition_that_clears_before_its_for_duration_leaves_no_alert(
    alert_settings, slack_endpoint
):
    AlertRuleFactory.create(severity="medium", for_seconds=60)
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    run(now)

    set_queue_depth(alert_settings, 0)
    run(now + timedelta(seconds=30))

    assert Alert.objects.count() == 0
    assert slack_endpoint.received == []


def test_unconfigured_channel_is_recorded_as_a_failed_delivery(alert_settings, settings):
    settings.PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL = ""
    settings.PHONOGLYPH_ALERT_DELIVERY_MAX_ATTEMPTS = 1
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)

    run(timezone.now())

    delivery = NotificationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL" in delivery.last_error
