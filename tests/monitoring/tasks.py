"""A task that only logs, run by a real worker in the correlated-logs test."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger("tests.monitoring.tasks")


@shared_task(name="tests.monitoring.log_context_probe")
def log_context_probe(*, job_id: str) -> None:
    logger.info("probe ran")
