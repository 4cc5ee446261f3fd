"""A job's run in a worker: claim, heartbeat, progress, the kind's work, and how it ends.

The run ends the job itself whenever it can: succeeded with the kind's stored result, failed
with the kind's refusal code, `timeout` at the soft time limit, `engine_crash` on any other
exception. Transient failures give the claim back and propagate, for the task to retry with
backoff (jobs.worker). What the run cannot end (a killed worker) the sweep ends.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.logging import job_id_var
from jobs.errors import JobNoLongerRunning, JobRefused
from jobs.kinds import J, JobKind
from jobs.lifecycle import (
    job_claim,
    job_credits_release,
    job_emit,
    job_fail,
    job_mark_succeeded,
    job_running,
    job_succeed,
    job_usage_record_free,
)
from jobs.models import JobStatus
from telemetry.reporting import capture_processing_error
from telemetry.tracing import stage_spans

logger = logging.getLogger(__name__)

_PROGRESS_MIN_INTERVAL_SECONDS = 0.5


class JobProgress:
    """The work's progress callback: records stage and percent, and stops a dropped job.

    Raises JobNoLongerRunning once the job left this claim (cancelled, or swept).
    """

    def __init__(self, kind: JobKind[Any, Any], job: Any) -> None:
        self.kind = kind
        self.job = job
        self.last_write = 0.0
        self.last: tuple[str, int] = ("", -1)

    @property
    def stage(self) -> str:
        """The last stage the work reported ("" before its first report)."""
        return self.last[0]

    def __call__(self, stage: str, percent: int) -> None:
        now = time.monotonic()
        if (stage, percent) == self.last:
            return
        if stage == self.last[0] and now - self.last_write < _PROGRESS_MIN_INTERVAL_SECONDS:
            return
        self.last, self.last_write = (stage, percent), now
        touched = self.kind.model._default_manager.filter(job_running(self.job)).update(
            stage=stage[:32], progress=max(0, min(100, percent)), heartbeat_at=timezone.now()
        )
        if touched != 1:
            raise JobNoLongerRunning(self.job.pk)


class JobHeartbeat(threading.Thread):
    """Refresh `heartbeat_at` while the work runs, so the sweep can tell a live job apart.

    It dies with the process: a killed worker stops beating and the sweep fails the job.
    """

    def __init__(self, kind: JobKind[Any, Any], job: Any) -> None:
        super().__init__(name=f"{kind.name}-heartbeat-{job.pk}", daemon=True)
        self.kind = kind
        self.job = job
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.kind.timings().heartbeat_seconds):
                try:
                    self.kind.model._default_manager.filter(job_running(self.job)).update(
                        heartbeat_at=timezone.now()
                    )
                except self.kind.transient_errors:
                    logger.warning("%s heartbeat write failed", self.kind.name, exc_info=True)
        finally:
            # The thread's own database connection; Django opens one per thread.
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def job_run(*, kind: JobKind[J, Any], job_id: int, worker_host: str | None = None) -> None:
    """Run a queued job to its end: claim it, do the kind's work, store and charge the result.

    A job that is not queued (finished, or held by another delivery) is left untouched. A job
    whose result became reusable while it was queued takes it for free. JobRefused and crashes
    end the job as failed and release its credits. Transient errors put the job back to queued
    and propagate for the caller's retry; Celery's SoftTimeLimitExceeded ends it as `timeout`.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    host = worker_host or socket.gethostname()
    job = job_claim(kind=kind, job_id=job_id, worker_host=host)
    if job is None:
        logger.info("%s job %s is not queued; another delivery handled it", kind.name, job_id)
        return
    if _reuse_if_computed_meanwhile(kind, job):
        return
    token = job_id_var.set(str(job.pk))
    heartbeat = JobHeartbeat(kind, job)
    heartbeat.start()
    started = time.monotonic()
    messages = kind.failure_messages
    progress = JobProgress(kind, job)
    try:
        # In a traced run each stage (decode, rhythm, tonal, ..., store) becomes a span.
        with stage_spans(progress) as traced_progress:
            outcome = kind.run(job, traced_progress)
            traced_progress("storing", 99)
            fields = kind.store(job, outcome)
        job_succeed(kind=kind, job=job, fields=fields, seconds=time.monotonic() - started)
    except JobNoLongerRunning:
        logger.info("%s job %s left running while it ran; result dropped", kind.name, job.pk)
    except JobRefused as refusal:
        if refusal.report:
            _fail_after_error(
                kind, job, refusal.__cause__ or refusal, code=refusal.code, stage=progress.stage
            )
        job_fail(
            kind=kind, job=job, code=refusal.code, message=refusal.message, attempt=job.attempts
        )
    except SoftTimeLimitExceeded as error:
        _fail_after_error(kind, job, error, code="timeout", stage=progress.stage)
        job_fail(
            kind=kind, job=job, code="timeout", message=messages["timeout"], attempt=job.attempts
        )
    except kind.transient_errors:
        _requeue(kind, job)
        raise
    except Exception as error:
        logger.exception("%s job %s crashed", kind.name, job.pk)
        _fail_after_error(kind, job, error, code="engine_crash", stage=progress.stage)
        job_fail(
            kind=kind,
            job=job,
            code="engine_crash",
            message=messages["engine_crash"],
            attempt=job.attempts,
        )
    finally:
        heartbeat.stop()
        job_id_var.reset(token)


def _reuse_if_computed_meanwhile(kind: JobKind[J, Any], job: J) -> bool:
    """Finish a just-claimed job from a result that became reusable while it was queued."""
    reuse = kind.reusable(job)
    if reuse is None:
        return False
    with transaction.atomic():
        if not job_mark_succeeded(kind, job, processing_seconds=0.0, **reuse):
            return True
        job_credits_release(kind=kind, job=job)
        job_usage_record_free(kind=kind, job=job)
    job_emit(kind, job, kind.events.completed, processing_seconds=0.0, reused=True)
    return True


def _requeue(kind: JobKind[J, Any], job: J) -> None:
    """Give a claim back after a transient failure so the retried task can claim it again."""
    try:
        kind.model._default_manager.filter(job_running(job)).update(
            status=JobStatus.QUEUED, stage="retrying", heartbeat_at=None
        )
    except kind.transient_errors:
        logger.warning("%s job %s could not be requeued; the sweep will end it", kind.name, job.pk)


def _fail_after_error(
    kind: JobKind[J, Any], job: J, error: BaseException, *, code: str, stage: str
) -> None:
    """Report an error that ends a run, with the stage it reached (the caller fails the job)."""
    subject = kind.subject(job)
    capture_processing_error(
        error,
        operation=kind.name,
        user_id=job.owner_id,
        media_id=subject.media_id,
        job_id=job.pk,
        metadata={"code": code, "stage": stage, "audio_seconds": subject.audio_seconds},
    )
