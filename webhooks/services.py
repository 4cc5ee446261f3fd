"""Every change to webhooks: endpoints, the messages an event fans out to, and their delivery.

Delivery is at least once. A message is tried at once, then after the backoff in
RETRY_SCHEDULE (with jitter) until it succeeds or the schedule runs out. An attempt is claimed
by a conditional UPDATE on `attempts`, so two workers (a redelivered task, the sweep racing a
retry) never both send the same attempt. A 410 disables the endpoint at once; an endpoint
that has failed for PHONOGLYPH_WEBHOOK_DISABLE_AFTER_DAYS is disabled; its owner is told.
"""

from __future__ import annotations

import logging
import secrets as secrets_module
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from billing.notices import CreditsLow
from core.api.exceptions import DomainError
from jobs.outcomes import JobOutcome
from webhooks import transport
from webhooks.events import CREDITS_LOW, JOB_OUTCOMES, TEST_EVENT, absolute_url, payload_body
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import message_id_generate, secret_generate, signature_header

logger = logging.getLogger(__name__)

# Seconds after each failed attempt before the next: ~5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
# 14 h, 20 h, 24 h (Standard Webhooks' recommendation); ten attempts in all over ~3 days.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
# Each delay is stretched or shrunk by up to this fraction, so retries of many messages that
# failed together (a receiver's outage) do not all arrive together.
JITTER = 0.1
# How long an attempt holds its claim: past this, a worker that died mid-attempt is presumed
# gone and the sweep offers the message again.
ATTEMPT_LEASE = timedelta(minutes=5)
PUBLISH_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, ConnectionError, OSError)

_random = secrets_module.SystemRandom()


class WebhookUrlRefused(DomainError):
    code = "webhook_url_refused"
    status = 422
    title = "Webhook URL refused"


def webhook_url_validate(*, url: str) -> None:
    """Raise WebhookUrlRefused (422) unless `url` may receive webhooks (webhooks.transport)."""
    try:
        transport.url_check(url)
    except transport.DestinationRefused as error:
        raise WebhookUrlRefused(str(error)) from error


def webhook_endpoint_create(
    *, owner: User, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    """Register `url` for `events`; the caller validated `events`. Raises WebhookUrlRefused."""
    webhook_url_validate(url=url)
    return WebhookEndpoint.objects.create(
        owner=owner, url=url, events=events, description=description, secret=secret_generate()
    )


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; enabling a disabled endpoint forgets its failures."""
    if url is not None:
        webhook_url_validate(url=url)
        endpoint.url = url
    if events is not None:
        endpoint.events = events
    if description is not None:
        endpoint.description = description
    if enabled is True and endpoint.disabled_at is not None:
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
    elif enabled is False and endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Disabled by its owner."
    endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new secret; the old one also signs for the rotation window."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(
        hours=settings.PHONOGLYPH_WEBHOOK_SECRET_ROTATION_HOURS
    )
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` message to `endpoint`, whatever it subscribed to."""
    data = {"endpoint_id": str(endpoint.public_id), "message": "A test event from Phonoglyph."}
    return _delivery_create(endpoint=endpoint, event_type=TEST_EVENT, data=data)


def _delivery_create(
    *, endpoint: WebhookEndpoint, event_type: str, data: dict[str, Any]
) -> WebhookDelivery:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=message_id_generate(),
            event_type=event_type,
            body=payload_body(event_type=event_type, timestamp=now, data=data),
            next_attempt_at=now,
        )
        transaction.on_commit(lambda: webhook_delivery_enqueue(delivery_id=delivery.pk))
    return delivery


def webhook_event_publish(
    *, owner_id: int, event_type: str, data: dict[str, Any]
) -> list[WebhookDelivery]:
    """Queue one message for each enabled endpoint of `owner_id` subscribed to `event_type`."""
    endpoints = WebhookEndpoint.objects.filter(owner_id=owner_id, disabled_at__isnull=True)
    return [
        _delivery_create(endpoint=endpoint, event_type=event_type, data=data)
        for endpoint in endpoints
        if event_type in endpoint.events
    ]


def webhook_event_from_job(outcome: JobOutcome) -> None:
    """The job layer's outcome listener: `<kind>.succeeded` / `<kind>.failed` to the owner."""
    if outcome.outcome not in JOB_OUTCOMES:
        return
    data: dict[str, Any] = {
        "object": outcome.kind,
        "id": str(outcome.public_id),
        "status": outcome.outcome,
    }
    if outcome.resource_path is not None:
        data["url"] = absolute_url(outcome.resource_path)
    if outcome.error_code:
        data["error_code"] = outcome.error_code
    webhook_event_publish(
        owner_id=outcome.owner_id, event_type=f"{outcome.kind}.{outcome.outcome}", data=data
    )


def webhook_event_from_credits_low(notice: CreditsLow) -> None:
    """Billing's credits-low listener: `credits.low` to the owner."""
    webhook_event_publish(
        owner_id=notice.user_id,
        event_type=CREDITS_LOW,
        data={
            "object": "credit_balance",
            "available": notice.available,
            "threshold": notice.threshold,
            "url": absolute_url("/api/v1/credits/"),
        },
    )


def webhook_delivery_enqueue(*, delivery_id: int) -> bool:
    """Publish the attempt task; False when the broker refused (the sweep publishes later)."""
    from webhooks.tasks import webhook_delivery_attempt as attempt_task

    try:
        attempt_task.delay(delivery_id)
    except PUBLISH_ERRORS:
        logger.warning("Webhook delivery %s could not be published; the sweep retries", delivery_id)
        return False
    return True


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same message (same id and body) again, with a fresh retry schedule."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        transaction.on_commit(lambda: webhook_delivery_enqueue(delivery_id=delivery.pk))
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_due() -> list[int]:
    """Ids of messages whose next attempt is due (retries, lost tasks, expired claims)."""
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=timezone.now(),
            endpoint__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )


def webhook_deliveries_dispatch() -> int:
    """Publish an attempt for every due message; return how many.

    Publishing a message twice is harmless: the attempt's claim lets one send.
    """
    due = webhook_deliveries_due()
    for delivery_id in due:
        webhook_delivery_enqueue(delivery_id=delivery_id)
    return len(due)


def _retry_delay(attempts: int) -> timedelta | None:
    """The wait after failed attempt number `attempts` (1-based); None once none are left."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    seconds = RETRY_SCHEDULE[attempts - 1]
    return timedelta(seconds=seconds * _random.uniform(1 - JITTER, 1 + JITTER))


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookAttempt | None:
    """Make the next attempt of a due message and log it; None when it is not due or taken.

    Never raises for the receiver's faults: they are logged on the attempt.
    """
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "endpoint__owner")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .first()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        return None
    # The claim: of two tasks for the same due message, exactly one UPDATE matches the
    # attempt count it read; the other touches no row and sends nothing.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1, next_attempt_at=now + ATTEMPT_LEASE)
    if claimed != 1:
        return None
    attempts = delivery.attempts + 1
    status, elapsed_ms, error = _send(endpoint, delivery)
    attempt = WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempt_log.count() + 1,
        response_status=status,
        response_ms=elapsed_ms,
        error=error[:300],
    )
    _record_outcome(endpoint, delivery, attempts, status)
    return attempt


def _send(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> tuple[int | None, int | None, str]:
    timestamp = int(timezone.now().timestamp())
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        keys.append(endpoint.previous_secret)
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=keys, message_id=delivery.message_id, timestamp=timestamp, body=delivery.body
        ),
    }
    try:
        response = transport.post(endpoint.url, body=delivery.body.encode(), headers=headers)
    except (transport.DestinationRefused, transport.DeliveryFailed) as error:
        return None, None, str(error)
    note = ""
    if 300 <= response.status < 400:
        note = "Redirects are not followed; point the endpoint at the final URL."
    return response.status, response.elapsed_ms, note


def _record_outcome(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, attempts: int, status: int | None
) -> None:
    now = timezone.now()
    claim = Q(pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=attempts)
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(claim).update(
            status=DeliveryStatus.SUCCEEDED, next_attempt_at=None
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    if status == 410:
        WebhookDelivery.objects.filter(claim).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
        _endpoint_disable(endpoint, reason="The endpoint answered 410 Gone.")
        return
    delay = _retry_delay(attempts)
    if delay is None:
        WebhookDelivery.objects.filter(claim).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
    else:
        WebhookDelivery.objects.filter(claim).update(next_attempt_at=now + delay)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    endpoint.refresh_from_db(fields=["failing_since"])
    failing_for = timedelta(days=settings.PHONOGLYPH_WEBHOOK_DISABLE_AFTER_DAYS)
    if endpoint.failing_since is not None and now - endpoint.failing_since >= failing_for:
        days = settings.PHONOGLYPH_WEBHOOK_DISABLE_AFTER_DAYS
        _endpoint_disable(endpoint, reason=f"Every delivery failed for {days} days.")


def _endpoint_disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Disable `endpoint` and email its owner, once: of racing disables, one notifies."""
    now = timezone.now()
    with transaction.atomic():
        touched = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
            disabled_at=now, disabled_reason=reason
        )
        if touched != 1:
            return
        WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
    owner_email = getattr(endpoint.owner, "email", "")
    if owner_email:
        send_mail(
            subject="Phonoglyph disabled one of your webhook endpoints",
            message=(
                f"Your webhook endpoint {endpoint.url} was disabled: {reason}\n\n"
                "No more events are sent to it. Fix the receiver, then enable the endpoint "
                f"again on {absolute_url('/account/webhooks/')} or through the API."
            ),
            from_email=None,
            recipient_list=[owner_email],
            fail_silently=True,
        )
