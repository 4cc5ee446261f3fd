"""Celery entry points of stem separation; the lifecycle lives in `jobs/`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from jobs.worker import JobRunTask, job_run_with_retries

# The kind is looked up by name: stems.kind, which registers it, refers to these tasks.
KIND = "stem_separation"


class StemSeparationRunTask(JobRunTask):
    job_kind = KIND


@shared_task(
    bind=True,
    base=StemSeparationRunTask,
    name="stems.tasks.stem_separation_job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.STEMS_TASK_MAX_RETRIES,
)
def stem_separation_job_run(self: Task[Any, Any], job_id: int) -> None:
    """Run one stem separation job; retried with backoff only for transient failures."""
    job_run_with_retries(self, kind_name=KIND, job_id=job_id)


@shared_task(name="stems.tasks.stem_separation_jobs_sweep")
def stem_separation_jobs_sweep() -> dict[str, int]:
    """Fail jobs whose worker vanished, release stranded credits, remove orphaned stem files."""
    # stems.services builds on stems.kind, which names this module's tasks.
    from stems.services import stem_separation_jobs_sweep as sweep

    return sweep()
