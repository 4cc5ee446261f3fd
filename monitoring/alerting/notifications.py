"""Routing alerts to channels, recording deliveries, and sending them with retries.

A delivery row is written before anything is sent and updated with the outcome, so a crash,
a refused request or a rate limit always leaves a trace an operator can see in the admin.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q

from monitoring.alerting.transports import TRANSPORTS, Notice, TransportError
from monitoring.models import (
    Alert,
    Channel,
    ChannelBucket,
    DeliveryKind,
    DeliveryStatus,
    NotificationDelivery,
    Silence,
)

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A delivery left "sending" this long belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=5)


def parse_routes(value: str) -> dict[str, list[str]]:
    """Parse "critical:sentry,slack,email;high:sentry,slack" into severity -> channels.

    Raises ImproperlyConfigured naming an unknown channel, so a typo cannot silence alerts.
    """
    routes: dict[str, list[str]] = {}
    for part in filter(None, (chunk.strip() for chunk in value.split(";"))):
        severity, _, channels = part.partition(":")
        names = [name.strip() for name in channels.split(",") if name.strip()]
        unknown = sorted(set(names) - set(Channel.values))
        if unknown:
            raise ImproperlyConfigured(f"PHONOGLYPH_ALERT_ROUTES names unknown channels {unknown}")
        routes[severity.strip()] = names
    return routes


def escalation_channels() -> list[str]:
    """Escalation level N goes to the Nth channel of PHONOGLYPH_ALERT_ESCALATION_CHANNELS."""
    names = [str(name) for name in settings.PHONOGLYPH_ALERT_ESCALATION_CHANNELS]
    unknown = sorted(set(names) - set(Channel.values))
    if unknown:
        raise ImproperlyConfigured(
            f"PHONOGLYPH_ALERT_ESCALATION_CHANNELS names unknown channels {unknown}"
        )
    return names


def alert_is_silenced(alert: Alert, *, now: datetime) -> bool:
    active = Silence.objects.filter(starts_at__lte=now, ends_at__gt=now).filter(
        Q(rule__isnull=True) | Q(rule_id=alert.rule_id)
    )
    return any(silence.covers(alert) for silence in active)


def deliveries_enqueue(
    *,
    alert: Alert,
    kind: str,
    now: datetime,
    channels: list[str] | None = None,
    escalation_level: int = 0,
) -> list[NotificationDelivery]:
    """Record one pending delivery per channel routed for the alert's severity.

    Silenced alerts get none. Returns the rows created.
    """
    if alert_is_silenced(alert, now=now):
        logger.info("alert %s is silenced; no %s notice", alert.pk, kind)
        return []
    if channels is None:
        channels = parse_routes(settings.PHONOGLYPH_ALERT_ROUTES).get(alert.severity, [])
    return NotificationDelivery.objects.bulk_create(
        NotificationDelivery(
            alert=alert,
            channel=channel,
            kind=kind,
            escalation_level=escalation_level,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in dict.fromkeys(channels)
    )


def notice_for(delivery: NotificationDelivery, *, now: datetime) -> Notice:
    alert = delivery.alert
    resolved = delivery.kind == DeliveryKind.RESOLVED and alert.resolved_at is not None
    when = alert.resolved_at if resolved and alert.resolved_at else now
    return Notice(
        alert_id=alert.pk,
        kind=delivery.kind,
        rule=alert.rule.name,
        severity=alert.severity,
        service=alert.service,
        state=alert.state,
        summary=alert.summary,
        value=alert.value,
        labels=dict(alert.labels),
        fingerprint=alert.fingerprint,
        time=when.replace(microsecond=0).isoformat(),
        escalation_level=delivery.escalation_level,
    )


def bucket_take(*, channel: str, now: datetime) -> float:
    """Take one token from the channel's bucket: 0 when taken, else seconds until one exists.

    The row lock makes concurrent workers share one bucket instead of each spending its own.
    """
    burst = float(settings.PHONOGLYPH_ALERT_RATE_LIMIT_BURST)
    per_second = float(settings.PHONOGLYPH_ALERT_RATE_LIMIT_PER_MINUTE) / 60
    ChannelBucket.objects.get_or_create(
        channel=channel, defaults={"tokens": burst, "updated_at": now}
    )
    with transaction.atomic():
        bucket = ChannelBucket.objects.select_for_update().get(channel=channel)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(burst, bucket.tokens + elapsed * per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / per_second if per_second > 0 else float(BACKOFF_MAX_SECONDS)
        bucket.tokens = tokens
        bucket.updated_at = max(now, bucket.updated_at)
        bucket.save(update_fields=["tokens", "updated_at"])
    return wait


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: 30 s, 60 s, 120 s ... at most an hour."""
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1)))


def delivery_claim(*, delivery: NotificationDelivery, now: datetime) -> bool:
    """Take the delivery for sending; False when another worker got there first.

    The UPDATE matches only the state this worker read (status and attempt count), so of two
    workers that read the same row exactly one changes it; the other sees zero rows and moves
    on. That is what keeps a notice from being sent twice.
    """
    claimed = NotificationDelivery.objects.filter(
        pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return claimed == 1


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    rate_limited: int = 0
    errors: list[str] = field(default_factory=list)


def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )


def notifications_deliver(*, now: datetime, limit: int = 200) -> DeliveryReport:
    """Send due deliveries, oldest first; a failing channel never holds up the others."""
    report = DeliveryReport()
    max_attempts = int(settings.PHONOGLYPH_ALERT_DELIVERY_MAX_ATTEMPTS)
    throttled: set[str] = set()
    candidates = list(
        NotificationDelivery.objects.filter(_due(now))
        .select_related("alert", "alert__rule")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    for delivery in candidates:
        if delivery.channel in throttled or not delivery_claim(delivery=delivery, now=now):
            continue
        attempt = delivery.attempts + 1
        wait = bucket_take(channel=delivery.channel, now=now)
        if wait > 0:
            throttled.add(delivery.channel)
            report.rate_limited += 1
            # Giving the attempt back: a rate-limited notice was never tried.
            NotificationDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING,
                attempts=F("attempts") - 1,
                next_attempt_at=now + timedelta(seconds=wait),
                last_error=f"rate limited: next token in {wait:.0f} s",
            )
            continue
        started = time.perf_counter()
        error = ""
        try:
            TRANSPORTS[delivery.channel](notice_for(delivery, now=now))
        except TransportError as refused:
            error = str(refused)
        except Exception as unexpected:
            logger.exception("notification transport %s crashed", delivery.channel)
            error = f"{type(unexpected).__name__}: {unexpected}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        if not error:
            report.sent += 1
            NotificationDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.SENT, sent_at=now, duration_ms=duration_ms, last_error=""
            )
            continue
        logger.warning(
            "%s delivery %s of alert %s failed (attempt %s): %s",
            delivery.channel,
            delivery.pk,
            delivery.alert_id,
            attempt,
            error,
        )
        report.errors.append(f"{delivery.channel}: {error}")
        if attempt >= max_attempts:
            report.failed += 1
            NotificationDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED, duration_ms=duration_ms, last_error=error[:2000]
            )
        else:
            report.retrying += 1
            NotificationDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + backoff(attempt),
                duration_ms=duration_ms,
                last_error=error[:2000],
            )
    return report
