"""Evaluate alert rules: open, fire, update and resolve alerts, re-notify and escalate.

Safe to run on several workers at once. Every state change is a conditional UPDATE that
names the state it expects; only the evaluator whose UPDATE touched the row enqueues the
notice, so concurrent evaluations never notify twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from monitoring.alerting.metrics import METRIC_SERVICES, MetricSource, Sample
from monitoring.alerting.notifications import deliveries_enqueue, escalation_channels
from monitoring.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    Alert,
    AlertRule,
    AlertState,
    DeliveryKind,
    Severity,
)
from telemetry.metrics import ALERTS_FIRING

logger = logging.getLogger(__name__)


@dataclass
class EvaluationReport:
    rules: int = 0
    fired: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    pending: int = 0
    repeated: int = 0
    escalated: int = 0
    unmeasured: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def alert_fingerprint(rule: AlertRule, labels: dict[str, str]) -> str:
    canonical = json.dumps({"rule": rule.pk, "labels": labels}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _summary(rule: AlertRule, sample: Sample) -> str:
    labels = ", ".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
    text = f"{rule.name}: {rule.metric} is {sample.value:g} ({rule.condition})"
    if labels:
        text += f" [{labels}]"
    if sample.detail:
        text += f" — {sample.detail}"
    return text[:300]


def _open_alert(rule: AlertRule, fingerprint: str, sample: Sample, now: datetime) -> Alert:
    """Create the pending alert, or return the one a concurrent evaluator just created."""
    try:
        with transaction.atomic():
            return Alert.objects.create(
                rule=rule,
                fingerprint=fingerprint,
                labels=sample.labels,
                service=METRIC_SERVICES.get(rule.metric, rule.metric),
                severity=rule.severity,
                state=AlertState.PENDING,
                value=sample.value,
                summary=_summary(rule, sample),
                pending_since=now,
                last_seen=now,
            )
    except IntegrityError:
        return Alert.objects.get(fingerprint=fingerprint, state__in=OPEN_STATES)


@transaction.atomic
def _fire(alert: Alert, now: datetime, report: EvaluationReport) -> None:
    # One transaction with the notices: if recording them fails, the alert stays pending and
    # the next evaluation fires it again, rather than firing without telling anyone.
    fired = Alert.objects.filter(pk=alert.pk, state=AlertState.PENDING).update(
        state=AlertState.FIRING, fired_at=now, last_notified_at=now
    )
    if fired != 1:
        return  # another evaluator fired it and sent the notices
    alert.refresh_from_db()
    report.fired.append(alert.pk)
    deliveries_enqueue(alert=alert, kind=DeliveryKind.FIRING, now=now)


@transaction.atomic
def alert_close(alert: Alert, *, now: datetime, by_user_id: int | None = None) -> bool:
    """Resolve an active alert (with a resolved notice) or drop a pending one.

    Returns True when this call resolved a fired alert, False when there was nothing to do
    because the alert was pending, already resolved, or resolved by someone else meanwhile.
    """
    if alert.state == AlertState.PENDING:
        Alert.objects.filter(pk=alert.pk, state=AlertState.PENDING).delete()
        return False
    resolved = Alert.objects.filter(pk=alert.pk, state__in=ACTIVE_STATES).update(
        state=AlertState.RESOLVED, resolved_at=now, resolved_by_id=by_user_id
    )
    if resolved != 1:
        return False
    alert.refresh_from_db()
    deliveries_enqueue(alert=alert, kind=DeliveryKind.RESOLVED, now=now)
    return True


def _evaluate_rule(
    rule: AlertRule, source: MetricSource, now: datetime, report: EvaluationReport
) -> None:
    samples = source.samples(rule)
    if samples is None:
        report.unmeasured.append(rule.name)
        return
    matching = {
        alert_fingerprint(rule, sample.labels): sample
        for sample in samples
        if rule.matches(sample.value)
    }
    open_alerts = {
        alert.fingerprint: alert for alert in Alert.objects.filter(rule=rule, state__in=OPEN_STATES)
    }
    for fingerprint, sample in matching.items():
        alert = open_alerts.get(fingerprint)
        if alert is None:
            alert = _open_alert(rule, fingerprint, sample, now)
        else:
            Alert.objects.filter(pk=alert.pk, state__in=OPEN_STATES).update(
                last_seen=now,
                count=F("count") + 1,
                value=sample.value,
                summary=_summary(rule, sample),
            )
        if alert.state == AlertState.PENDING:
            if now - alert.pending_since >= timedelta(seconds=rule.for_seconds):
                _fire(alert, now, report)
            else:
                report.pending += 1
    for fingerprint, alert in open_alerts.items():
        if fingerprint not in matching and alert_close(alert, now=now):
            report.resolved.append(alert.pk)


def _repeat(now: datetime, report: EvaluationReport) -> None:
    """Re-notify alerts still firing, unacknowledged, a repeat interval after the last notice."""
    interval = timedelta(seconds=settings.PHONOGLYPH_ALERT_REPEAT_INTERVAL_SECONDS)
    due = Alert.objects.filter(state=AlertState.FIRING, last_notified_at__lte=now - interval)
    for alert in due:
        with transaction.atomic():
            claimed = Alert.objects.filter(
                pk=alert.pk, state=AlertState.FIRING, last_notified_at=alert.last_notified_at
            ).update(last_notified_at=now)
            if claimed == 1:
                report.repeated += 1
                deliveries_enqueue(alert=alert, kind=DeliveryKind.REPEAT, now=now)


def _escalate(now: datetime, report: EvaluationReport) -> None:
    """Send unacknowledged critical alerts to the next escalation channel, once per level.

    Level N is reached N escalation delays after the alert fired.
    """
    channels = escalation_channels()
    delay = timedelta(seconds=settings.PHONOGLYPH_ALERT_ESCALATE_AFTER_SECONDS)
    candidates = Alert.objects.filter(
        state=AlertState.FIRING,
        severity=Severity.CRITICAL,
        escalation_level__lt=len(channels),
        fired_at__lte=now - delay,
    )
    for alert in candidates:
        level = alert.escalation_level + 1
        if alert.fired_at is None or now - alert.fired_at < delay * level:
            continue
        with transaction.atomic():
            claimed = Alert.objects.filter(
                pk=alert.pk, state=AlertState.FIRING, escalation_level=alert.escalation_level
            ).update(escalation_level=level)
            if claimed == 1:
                report.escalated += 1
                alert.escalation_level = level
                deliveries_enqueue(
                    alert=alert,
                    kind=DeliveryKind.ESCALATION,
                    now=now,
                    channels=[channels[level - 1]],
                    escalation_level=level,
                )


def _publish_gauge() -> None:
    counts = dict.fromkeys(Severity.values, 0)
    for severity in Alert.objects.filter(state__in=ACTIVE_STATES).values_list(
        "severity", flat=True
    ):
        counts[severity] = counts.get(severity, 0) + 1
    for severity, count in counts.items():
        ALERTS_FIRING.labels(severity=severity).set(count)


def evaluate(*, now: datetime) -> EvaluationReport:
    """Evaluate every enabled rule as of `now`; a rule that errors never stops the others."""
    report = EvaluationReport()
    source = MetricSource(now=now)
    for rule in AlertRule.objects.filter(enabled=True):
        report.rules += 1
        try:
            _evaluate_rule(rule, source, now, report)
        except Exception as error:
            logger.exception("alert rule %r could not be evaluated", rule.name)
            report.errors.append(f"{rule.name}: {type(error).__name__}: {error}")
    # A disabled rule no longer watches anything, so its incidents are over.
    for alert in Alert.objects.filter(rule__enabled=False, state__in=OPEN_STATES):
        if alert_close(alert, now=now):
            report.resolved.append(alert.pk)
    for step in (_repeat, _escalate):
        try:
            step(now, report)
        except Exception as error:
            logger.exception("alert %s step failed", step.__name__)
            report.errors.append(f"{step.__name__}: {type(error).__name__}: {error}")
    _publish_gauge()
    return report
