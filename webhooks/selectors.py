"""Every read of webhooks, scoped to the caller: another user's endpoint is simply not found."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list_for_user(*, user: User) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user)


def webhook_endpoint_get_for_user(*, user: User, endpoint_id: int) -> WebhookEndpoint:
    """The caller's endpoint `endpoint_id`; raises Http404 for anyone else's or none."""
    endpoint = WebhookEndpoint.objects.filter(owner=user, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def webhook_delivery_list_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's messages, newest first, each with its attempts (the delivery log)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )


def webhook_delivery_get_for_user(
    *, user: User, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    """The caller's message `delivery_id` of endpoint `endpoint_id`; raises Http404 otherwise."""
    delivery = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, endpoint_id=endpoint_id, endpoint__owner=user
        )
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
        )
        .first()
    )
    if delivery is None:
        raise Http404("No such webhook delivery.")
    return delivery
