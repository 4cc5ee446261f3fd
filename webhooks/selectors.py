"""Every read of webhooks, scoped to the caller: another user's endpoint is simply not found."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list_for_user(*, user: User) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user)


def webhook_endpoint_get_for_user(*, user: User, public_id: UUID) -> WebhookEndpoint:
    """The caller's endpoint with this public id; raises Http404 for anyone else's or none."""
    endpoint = WebhookEndpoint.objects.filter(owner=user, public_id=public_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def webhook_delivery_list_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's messages, newest first, each with its attempts (the delivery log)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )


def webhook_delivery_get_for_user(
    *, user: User, endpoint_public_id: UUID, public_id: UUID
) -> WebhookDelivery:
    """The caller's message with this public id, of the endpoint with `endpoint_public_id`;
    raises Http404 otherwise."""
    delivery = (
        WebhookDelivery.objects.filter(
            public_id=public_id, endpoint__public_id=endpoint_public_id, endpoint__owner=user
        )
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
        )
        .first()
    )
    if delivery is None:
        raise Http404("No such webhook delivery.")
    return delivery
