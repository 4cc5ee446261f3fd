"""Celery entrypoints of webhook delivery: fetch by id, call one service."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.tasks.webhook_delivery_attempt", ignore_result=True)
def webhook_delivery_attempt(delivery_id: int) -> None:
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.tasks.webhook_deliveries_dispatch", ignore_result=True)
def webhook_deliveries_dispatch() -> int:
    """Publish an attempt for every due message (retries and lost tasks); return how many."""
    return services.webhook_deliveries_dispatch()
