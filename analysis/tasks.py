"""Celery entry points of the analysis pipeline; the lifecycle lives in `jobs/`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from jobs.kinds import job_kind_get
from jobs.sweep import job_kind_sweep
from jobs.worker import JobRunTask, job_run_with_retries

# The kind is looked up by name: analysis.kind, which registers it, refers to these tasks.
KIND = "analysis"


class AnalysisRunTask(JobRunTask):
    job_kind = KIND


@shared_task(
    bind=True,
    base=AnalysisRunTask,
    name="analysis.tasks.analysis_job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.ANALYSIS_TASK_MAX_RETRIES,
)
def analysis_job_run(self: Task[Any, Any], job_id: int) -> None:
    """Run one analysis job; retried with backoff only for transient failures."""
    job_run_with_retries(self, kind_name=KIND, job_id=job_id)


@shared_task(name="analysis.tasks.analysis_jobs_sweep")
def analysis_jobs_sweep() -> dict[str, int]:
    """Fail jobs whose worker vanished, publish unpublished ones, release stranded credits."""
    report = job_kind_sweep(kind=job_kind_get(KIND))
    return {
        "timed_out": report.timed_out,
        "crashed": report.crashed,
        "republished": report.republished,
        "reservations_released": report.reservations_released,
    }
