"""A failing channel is retried with backoff and recorded; the other channels still deliver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from monitoring import services
from monitoring.models import Alert, NotificationDelivery
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory

pytestmark = pytest.mark.django_db


def test_channel_answering_500_is_retried_after_backoff_while_others_deliver(
    alert_settings, slack_endpoint, sentry_server
):
    AlertRuleFactory.create(severity="critical")
    set_queue_depth(alert_settings, 5)
    slack_endpoint.status = 500
    now = timezone.now()

    services.alerts_evaluate(now=now)
    report = services.notifications_deliver(now=now)

    assert report.sent == 2
    assert report.retrying == 1
    assert len(mail.outbox) == 1
    sentry_server.wait_for(lambda server: len(server.sentry_events()) == 1)
    slack = NotificationDelivery.objects.get(channel="slack")
    assert slack.status == "pending"
    assert slack.attempts == 1
    assert slack.last_error == "HTTP 500 from the endpoint"
    assert slack.next_attempt_at == now + timedelta(seconds=30)
    assert slack.duration_ms is not None

    services.notifications_deliver(now=now + timedelta(seconds=29))
    assert len(slack_endpoint.received) == 1

    slack_endpoint.status = 200
    services.alerts_evaluate(now=now + timedelta(seconds=30))
    services.notifications_deliver(now=now + timedelta(seconds=30))

    slack.refresh_from_db()
    assert slack.status == "sent"
    assert slack.attempts == 2
    assert slack.last_error == ""
    assert len(slack_endpoint.received) == 2
    assert len(mail.outbox) == 1
    assert NotificationDelivery.objects.count() == 3


def test_delivery_gives_up_after_the_last_attempt_and_says_why(alert_settings, slack_endpoint):
    alert_settings.PHONOGLYPH_ALERT_DELIVERY_MAX_ATTEMPTS = 3
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    slack_endpoint.status = 503
    now = timezone.now()
    services.alerts_evaluate(now=now)

    for seconds in (0, 30, 90, 300):
        services.notifications_deliver(now=now + timedelta(seconds=seconds))

    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == 3
    assert delivery.last_error == "HTTP 503 from the endpoint"
    assert len(slack_endpoint.received) == 3


def test_unreachable_endpoint_is_recorded_and_evaluation_goes_on(alert_settings, slack_endpoint):
    slack_endpoint.stop()
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    services.alerts_evaluate(now=now)
    services.notifications_deliver(now=now)
    set_queue_depth(alert_settings, 0)
    report = services.alerts_evaluate(now=now + timedelta(seconds=30))

    assert report.resolved == [Alert.objects.get().pk]
    firing = NotificationDelivery.objects.get(kind="firing")
    assert firing.status == "pending"
    assert firing.last_error.startswith("could not reach the endpoint")


def test_rate_limited_channel_defers_notices_without_spending_attempts(
    alert_settings, slack_endpoint
):
    alert_settings.PHONOGLYPH_ALERT_RATE_LIMIT_BURST = 2
    alert_settings.PHONOGLYPH_ALERT_RATE_LIMIT_PER_MINUTE = 1.0
    for _ in range(4):
        AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()

    services.alerts_evaluate(now=now)
    report = services.notifications_deliver(now=now)

    assert report.sent == 2
    assert report.rate_limited == 1
    assert len(slack_endpoint.received) == 2
    deferred = NotificationDelivery.objects.filter(status="pending")
    assert deferred.count() == 2
    assert all(delivery.attempts == 0 for delivery in deferred)
    assert deferred.filter(last_error__startswith="rate limited").count() == 1

    services.notifications_deliver(now=now + timedelta(seconds=60))
    assert len(slack_endpoint.received) == 3
    services.notifications_deliver(now=now + timedelta(seconds=120))
    assert len(slack_endpoint.received) == 4
