"""Every state change of monitoring: evaluating rules, delivering notices, handling alerts."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from core.api.exceptions import DomainError
from monitoring.alerting import evaluation, notifications
from monitoring.alerting.evaluation import EvaluationReport
from monitoring.alerting.notifications import DeliveryReport
from monitoring.models import Alert, AlertState


class AlertStateConflict(DomainError):
    code = "alert_state_conflict"
    status = 409


def alerts_evaluate(*, now: datetime | None = None) -> EvaluationReport:
    """Evaluate all enabled rules once; see `monitoring.alerting.evaluation`."""
    return evaluation.evaluate(now=now or timezone.now())


def notifications_deliver(*, now: datetime | None = None) -> DeliveryReport:
    """Send the notification deliveries that are due; see `monitoring.alerting.notifications`."""
    return notifications.notifications_deliver(now=now or timezone.now())


def alert_acknowledge(
    *, alert: Alert, user: AbstractBaseUser, now: datetime | None = None
) -> Alert:
    """Acknowledge a firing alert: it stops repeating and escalating.

    Raises AlertStateConflict unless the alert is firing.
    """
    now = now or timezone.now()
    changed = Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
        state=AlertState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user
    )
    alert.refresh_from_db()
    if changed != 1:
        raise AlertStateConflict(
            f"Only a firing alert can be acknowledged; this one is {alert.state}.",
            extra={"state": alert.state},
        )
    return alert


def alert_resolve(*, alert: Alert, user: AbstractBaseUser, now: datetime | None = None) -> Alert:
    """Resolve a firing or acknowledged alert by hand and send the resolved notice.

    Raises AlertStateConflict when the alert is not active (pending or already resolved).
    """
    if alert.state == AlertState.PENDING or not evaluation.alert_close(
        alert, now=now or timezone.now(), by_user_id=user.pk
    ):
        alert.refresh_from_db()
        raise AlertStateConflict(
            f"Only a firing or acknowledged alert can be resolved; this one is {alert.state}.",
            extra={"state": alert.state},
        )
    return alert
