"""Celery entry points of notifications: call one service."""

from __future__ import annotations

from celery import shared_task

from notifications.services import notifications_prune as prune


@shared_task(name="notifications.tasks.notifications_prune", ignore_result=True)
def notifications_prune() -> int:
    """Delete the notifications past their keeping time."""
    return prune()
