"""Celery entry points of the analysis pipeline; the logic lives in analysis.services."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

from analysis import services


class AnalysisRunTask(Task[Any, Any]):
    """Ends a job as `timeout` when its worker child is killed at the hard time limit.

    Celery calls on_failure in the worker's main process after killing the child, so the job
    fails at once instead of waiting for the sweep.
    """

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:
            services.analysis_job_fail_by_id(job_id=int(args[0]), code="timeout")


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
    try:
        services.analysis_job_run(job_id=job_id, worker_host=self.request.hostname)
    except services.TRANSIENT_ERRORS as error:
        if self.request.retries >= (self.max_retries or 0):
            services.analysis_job_fail_by_id(job_id=job_id, code="service_unavailable")
            return
        countdown = min(
            settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS,
            settings.ANALYSIS_RETRY_BACKOFF_SECONDS * 2**self.request.retries,
        )
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="analysis.tasks.analysis_jobs_sweep")
def analysis_jobs_sweep() -> dict[str, int]:
    """Fail jobs whose worker vanished, publish unpublished ones, release stranded credits."""
    report = services.analysis_jobs_sweep()
    return {
        "timed_out": report.timed_out,
        "crashed": report.crashed,
        "republished": report.republished,
        "reservations_released": report.reservations_released,
    }
