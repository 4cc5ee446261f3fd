"""Alert rules, the alerts they raise, silences, and the notification deliveries they cause."""

from __future__ import annotations

import operator
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Metric(models.TextChoices):
    """What a rule watches; each value is produced by `monitoring.alerting.metrics`."""

    QUEUE_DEPTH = "queue_depth", "Broker queue depth (per queue)"
    ANALYSIS_MEAN_PROCESSING_SECONDS = (
        "analysis_mean_processing_seconds",
        "Analysis mean processing time (s)",
    )
    ANALYSIS_FAILURE_RATE = "analysis_failure_rate", "Analysis failure rate (%)"
    ANALYSIS_SUCCESS_RATE = "analysis_success_rate", "Analysis success rate (%)"
    ANALYSIS_JOBS_OVER_TIME_LIMIT = (
        "analysis_jobs_over_time_limit",
        "Analysis jobs running past their time limit",
    )
    STEM_SEPARATION_MEAN_PROCESSING_SECONDS = (
        "stem_separation_mean_processing_seconds",
        "Stem separation mean processing time (s)",
    )
    STEM_SEPARATION_FAILURE_RATE = (
        "stem_separation_failure_rate",
        "Stem separation failure rate (%)",
    )
    STEM_SEPARATION_JOBS_OVER_TIME_LIMIT = (
        "stem_separation_jobs_over_time_limit",
        "Stem separations running past their time limit",
    )
    STORAGE_FAILING = "storage_failing", "Storage check failing (1 = failing)"
    DATABASE_FAILING = "database_failing", "Database check failing (1 = failing)"
    CACHE_FAILING = "cache_failing", "Cache check failing (1 = failing)"
    WORKERS_ALIVE = "workers_alive", "Celery workers answering a ping"
    LEDGER_DRIFT = "ledger_drift", "Credits ledger reconciliation drift"


class Comparison(models.TextChoices):
    GT = "gt", ">"
    GTE = "gte", "≥"
    LT = "lt", "<"
    LTE = "lte", "≤"
    EQ = "eq", "="
    NE = "ne", "≠"


COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    Comparison.GT: operator.gt,
    Comparison.GTE: operator.ge,
    Comparison.LT: operator.lt,
    Comparison.LTE: operator.le,
    Comparison.EQ: operator.eq,
    Comparison.NE: operator.ne,
}


class AlertRule(models.Model):
    """A condition on a metric that raises an alert once it has held for `for_seconds`."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    metric = models.CharField(max_length=50, choices=Metric.choices)
    comparison = models.CharField(max_length=3, choices=Comparison.choices)
    threshold = models.FloatField()
    window_seconds = models.PositiveIntegerField(
        default=900, help_text="How far back windowed metrics (rates, times) look, in seconds."
    )
    for_seconds = models.PositiveIntegerField(
        default=0, help_text="How long the condition must hold before the alert fires."
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def matches(self, value: float) -> bool:
        return COMPARATORS[self.comparison](value, self.threshold)

    @property
    def condition(self) -> str:
        return f"{self.metric} {self.get_comparison_display()} {self.threshold:g}"


class AlertState(models.TextChoices):
    # Pending: the condition holds but not yet for the rule's `for` duration; nobody is told.
    PENDING = "pending", "Pending"
    FIRING = "firing", "Firing"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED)
ACTIVE_STATES = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    """One incident: a rule matched for one set of labels, from first match to resolution."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=64, db_index=True)
    labels = models.JSONField(default=dict, blank=True)
    service = models.CharField(max_length=50)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=15, choices=AlertState.choices, db_index=True)
    value = models.FloatField()
    summary = models.CharField(max_length=300)
    pending_since = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1, help_text="Evaluations that saw the condition.")
    last_notified_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ("-pending_since",)
        constraints = [
            # At most one open incident per fingerprint: two evaluators racing to open the same
            # alert collide here and the loser re-reads the winner's row.
            models.UniqueConstraint(
                fields=("fingerprint",),
                condition=Q(state__in=["pending", "firing", "acknowledged"]),
                name="monitoring_alert_one_open_per_fingerprint",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"


class Silence(models.Model):
    """A time-boxed mute: alerts of `rule` (any rule when blank) whose labels include `matchers`."""

    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="silences"
    )
    matchers = models.JSONField(
        default=dict, blank=True, help_text='Labels an alert must carry, e.g. {"queue": "celery"}.'
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    comment = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-ends_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="monitoring_silence_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        target = self.rule.name if self.rule else "all rules"
        return f"Silence of {target} until {self.ends_at:%Y-%m-%d %H:%M}"

    def covers(self, alert: Alert) -> bool:
        if self.rule_id is not None and self.rule_id != alert.rule_id:
            return False
        return all(alert.labels.get(key) == value for key, value in self.matchers.items())


class Channel(models.TextChoices):
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    SENTRY = "sentry", "Sentry"
    WEBHOOK = "webhook", "Webhook"


class DeliveryKind(models.TextChoices):
    FIRING = "firing", "Firing"
    REPEAT = "repeat", "Still firing"
    ESCALATION = "escalation", "Escalation"
    RESOLVED = "resolved", "Resolved"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationDelivery(models.Model):
    """One notification of one alert on one channel, recorded before it is sent."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("status", "next_attempt_at"))]
        verbose_name_plural = "notification deliveries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of alert #{self.alert_id} via {self.channel}"


class ChannelBucket(models.Model):
    """The token bucket that rate-limits one notification channel across all workers."""

    channel = models.CharField(max_length=10, choices=Channel.choices, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.channel}: {self.tokens:.1f} tokens"
