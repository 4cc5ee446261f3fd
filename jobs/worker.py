"""What a kind's Celery task does around a run: retries with backoff, and the hard time limit."""

from __future__ import annotations

from typing import Any, ClassVar

from celery import Task
from celery.exceptions import TimeLimitExceeded

from jobs.kinds import job_kind_get
from jobs.lifecycle import job_fail_by_id
from jobs.runner import job_run


class JobRunTask(Task[Any, Any]):
    """Base of a kind's run task: ends a job as `timeout` when its worker child is killed at
    the hard time limit.

    Celery calls on_failure in the worker's main process after killing the child, so the job
    fails at once instead of waiting for the sweep. Subclasses name their kind.
    """

    job_kind: ClassVar[str]

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:
            job_fail_by_id(kind=job_kind_get(self.job_kind), job_id=int(args[0]), code="timeout")


def job_run_with_retries(task: Task[Any, Any], *, kind_name: str, job_id: int) -> None:
    """Run one job from inside `task`; retry with exponential backoff only on transient failures.

    When the retries are spent the job fails as `service_unavailable`. Raises Celery's Retry.
    """
    kind = job_kind_get(kind_name)
    try:
        job_run(kind=kind, job_id=job_id, worker_host=task.request.hostname)
    except kind.transient_errors as error:
        if task.request.retries >= (task.max_retries or 0):
            job_fail_by_id(kind=kind, job_id=job_id, code="service_unavailable")
            return
        timings = kind.timings()
        countdown = min(
            timings.retry_backoff_max_seconds,
            timings.retry_backoff_seconds * 2**task.request.retries,
        )
        raise task.retry(exc=error, countdown=countdown) from error
