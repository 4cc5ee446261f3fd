"""Celery beat entrypoints for alerting; each calls one service."""

from __future__ import annotations

from celery import shared_task

from monitoring import services


@shared_task(name="monitoring.tasks.alerts_evaluate", ignore_result=True)
def alerts_evaluate() -> None:
    services.alerts_evaluate()


@shared_task(name="monitoring.tasks.notifications_deliver", ignore_result=True)
def notifications_deliver() -> None:
    services.notifications_deliver()
