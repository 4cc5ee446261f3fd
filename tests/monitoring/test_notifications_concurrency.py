"""Evaluators and deliverers running at the same time never notify twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from monitoring import services
from monitoring.alerting.notifications import delivery_claim
from monitoring.models import Alert, NotificationDelivery
from tests.monitoring.alert_helpers import set_queue_depth
from tests.monitoring.factories import AlertRuleFactory


@pytest.mark.django_db
def test_second_worker_claiming_the_same_delivery_gets_nothing(alert_settings):
    AlertRuleFactory.create(severity="medium")
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    services.alerts_evaluate(now=now)
    seen_by_first = NotificationDelivery.objects.get()
    seen_by_second = NotificationDelivery.objects.get()

    assert delivery_claim(delivery=seen_by_first, now=now) is True
    assert delivery_claim(delivery=seen_by_second, now=now) is False


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluators_on_postgresql_send_each_notice_exactly_once(
    postgres_url, alert_settings, slack_endpoint, webhook_endpoint
):
    alert_settings.PHONOGLYPH_ALERT_ROUTES = "medium:slack,webhook"
    rules = [AlertRuleFactory.create(severity="medium") for _ in range(8)]
    set_queue_depth(alert_settings, 5)
    now = timezone.now()
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def evaluator() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                services.alerts_evaluate(now=now)
                services.notifications_deliver(now=now)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluator) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Alert.objects.count() == len(rules)
    assert NotificationDelivery.objects.count() == 2 * len(rules)
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(slack_endpoint.received) == len(rules)
    assert len(webhook_endpoint.received) == len(rules)
    alert_ids = sorted(body["alert_id"] for body in webhook_endpoint.bodies())
    assert alert_ids == sorted(Alert.objects.values_list("pk", flat=True))
