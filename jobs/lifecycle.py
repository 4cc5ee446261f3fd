"""Every state change of a job seen from outside its run: create, publish, claim, finish, cancel.

Each transition is a conditional UPDATE on `status` (and, once running, on `attempts`, which
names the claim) that must touch exactly one row. Whoever touches zero rows lost a race to
another worker, a cancel or the sweep, and backs off without writing anything else. Credits
move in the same transaction as the transition that justifies them: reserve with creation,
capture with success, release with failure or cancellation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from jobs.admission import TooManyJobs, job_limit_for
from jobs.errors import JobNoLongerRunning
from jobs.kinds import J, JobKind, Outcome, job_kinds
from jobs.models import Job, JobStatus
from jobs.outcomes import JobOutcome, job_outcome_announce
from telemetry.reporting import ProductEvent, emit_event

logger = logging.getLogger(__name__)

# What publishing raises while the broker is unreachable.
PUBLISH_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, ConnectionError, OSError)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)


def job_create(*, kind: JobKind[J, Any], owner: AbstractBaseUser, fields: dict[str, Any]) -> J:
    """Create a job of `kind` for `owner` and queue it once committed, reserving its credits.

    A result the kind finds reusable for this job (see JobKind.reusable) is taken at once: the
    job is created already succeeded and costs nothing (its usage is recorded at cost 0).
    Raises the ledger's refusal (InsufficientCredits, 402), in which case no job exists.
    """
    reuse = kind.reusable(kind.model(owner=owner, **fields))
    if reuse is not None:
        now = timezone.now()
        with transaction.atomic():
            job = kind.model._default_manager.create(
                **{**fields, **reuse},
                owner=owner,
                status=JobStatus.SUCCEEDED,
                stage="done",
                progress=100,
                started_at=now,
                finished_at=now,
                processing_seconds=0.0,
            )
            job_usage_record_free(kind=kind, job=job)
        job_emit(kind, job, kind.events.completed, processing_seconds=0.0, reused=True)
        _announce(kind, job, "succeeded", reused=True)
        return job

    with transaction.atomic():
        _admit(owner)
        job = kind.model._default_manager.create(owner=owner, **fields)
        _reserve(kind, job)
        transaction.on_commit(lambda: job_enqueue(kind=kind, job=job))
    job_emit(kind, job, kind.events.started)
    return job


def _admit(owner: AbstractBaseUser) -> None:
    """Refuse with TooManyJobs when `owner` already has their limit of active jobs.

    Assumes the transaction that creates the job. Locking the owner's row serialises one
    owner's job creations: two racing creations cannot both count the same free slot.
    """
    limit = job_limit_for(owner)
    if limit is None:
        return
    get_user_model()._default_manager.select_for_update().filter(pk=owner.pk).exists()
    active = sum(
        kind.model._default_manager.filter(owner=owner, status__in=ACTIVE).count()
        for kind in job_kinds()
    )
    if active >= limit:
        raise TooManyJobs(
            f"You already have {active} jobs queued or running; your plan allows {limit} at "
            "once. Start more when one has finished.",
            extra={"limit": limit, "active": active},
        )


def _reserve(kind: JobKind[J, Any], job: J) -> None:
    """Hold the job's price; assumes the transaction that created the job."""
    if kind.credits is None:
        return
    cost = kind.credits.price(job)
    # A zero price (free deployments) has nothing to hold; the ledger refuses empty holds.
    if cost <= 0:
        return
    kind.credits.ledger.reserve(
        user=job.owner,
        amount=cost,
        feature=kind.credits.feature,
        job_ref=job.job_ref,
        idempotency_key=f"{job.job_ref}:reserve",
        expires_at=timezone.now() + timedelta(hours=kind.timings().reservation_hours),
    )
    kind.model._default_manager.filter(pk=job.pk).update(credits_reserved=cost)
    job.credits_reserved = cost


def job_enqueue(*, kind: JobKind[J, Any], job: J) -> bool:
    """Publish the job's task on the kind's queue, with the job's own time limits.

    Returns False when the broker refused it; the job stays unpublished and the sweep retries.
    """
    try:
        kind.task.apply_async(
            args=(job.pk,),
            queue=kind.queue,
            soft_time_limit=job.soft_time_limit,
            time_limit=job.time_limit,
        )
    except PUBLISH_ERRORS:
        logger.warning("%s job %s could not be published; the sweep retries", kind.name, job.pk)
        return False
    kind.model._default_manager.filter(pk=job.pk).update(published_at=timezone.now())
    return True


def job_claim(*, kind: JobKind[J, Any], job_id: int, worker_host: str) -> J | None:
    """Move a queued job to running for this worker; None when it is not queued any more."""
    now = timezone.now()
    # The claim: of two deliveries of one task (a redelivery, a duplicate publish, two workers),
    # exactly one UPDATE matches status=queued; the other touches no row and does nothing.
    claimed = kind.model._default_manager.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        stage="starting",
        progress=0,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        worker_host=worker_host[:200],
    )
    if claimed != 1:
        return None
    return kind.model._default_manager.select_related("owner", *kind.claim_related).get(pk=job_id)


def job_running(job: J) -> Q:
    """Rows still held by this claim of `job` (the attempt number names the claim)."""
    return Q(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)


def job_mark_succeeded(kind: JobKind[J, Any], job: J, **fields: Any) -> bool:
    """Move this claim of `job` from running to succeeded; False when it is no longer running.

    A cancel and the sweep also move running jobs: of the racing UPDATEs exactly one matches.
    """
    touched = kind.model._default_manager.filter(job_running(job)).update(
        status=JobStatus.SUCCEEDED,
        stage="done",
        progress=100,
        finished_at=timezone.now(),
        **fields,
    )
    return touched == 1


def job_succeed(*, kind: JobKind[J, Any], job: J, fields: dict[str, Any], seconds: float) -> None:
    """Record a finished run with the fields its kind stored, and capture its credits, once.

    Raises JobNoLongerRunning when the job was cancelled or swept meanwhile: then nothing is
    recorded and nothing charged.
    """
    with transaction.atomic():
        if not job_mark_succeeded(kind, job, processing_seconds=round(seconds, 3), **fields):
            raise JobNoLongerRunning(job.pk)
        if job.credits_reserved and kind.credits is not None:
            kind.credits.ledger.capture(
                job_ref=job.job_ref, feature=kind.credits.feature, usage=kind.credits.usage(job)
            )
    _observe(kind, job, seconds, "succeeded")
    job_emit(kind, job, kind.events.completed, processing_seconds=round(seconds, 3), reused=False)
    _announce(kind, job, "succeeded")


def job_fail(
    *, kind: JobKind[J, Any], job: J, code: str, message: str, attempt: int | None = None
) -> bool:
    """End a queued or running job as failed and release its credits; False if already over.

    With `attempt`, only that claim of a running job is failed (a worker failing its own run).
    """
    condition = Q(pk=job.pk, status__in=ACTIVE)
    if attempt is not None:
        condition &= Q(attempts=attempt)
    now = timezone.now()
    elapsed = _elapsed(job, now)
    with transaction.atomic():
        touched = kind.model._default_manager.filter(condition).update(
            status=JobStatus.FAILED,
            error_code=code[:32],
            error_message=message[:500],
            finished_at=now,
            processing_seconds=elapsed,
            heartbeat_at=None,
        )
        if touched != 1:
            return False
        job_credits_release(kind=kind, job=job)
    _observe(kind, job, elapsed or 0.0, "failed")
    job_emit(kind, job, kind.events.failed, code=code, processing_seconds=elapsed)
    _announce(kind, job, "failed", error_code=code, error_message=message[:500])
    return True


def job_fail_by_id(*, kind: JobKind[Any, Any], job_id: int, code: str) -> bool:
    """Fail a job from outside its run (a hard time limit, exhausted retries).

    `code` is one of jobs.kinds.FAILURE_CODES; the kind words its message.
    """
    job = kind.model._default_manager.filter(pk=job_id).first()
    if job is None:
        return False
    return job_fail(kind=kind, job=job, code=code, message=kind.failure_messages[code])


def job_cancel(*, kind: JobKind[J, Any], job: J) -> bool:
    """Cancel a queued or running job and release its credits; False when it already ended.

    The caller checked that its user may cancel `job`. A running run notices at its next
    progress report and stops.
    """
    with transaction.atomic():
        # Racing the worker's success and the sweep: only one transition out of running wins.
        touched = kind.model._default_manager.filter(pk=job.pk, status__in=ACTIVE).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), heartbeat_at=None
        )
        if touched != 1:
            return False
        job_credits_release(kind=kind, job=job)
    _observe(kind, job, _elapsed(job, timezone.now()) or 0.0, "cancelled")
    job_emit(kind, job, kind.events.cancelled)
    _announce(kind, job, "cancelled")
    return True


def job_is_retryable(job: Job) -> bool:
    """Whether a new job like `job` may be started by staff (it failed or was cancelled)."""
    return job.status in RETRYABLE


def job_credits_release(*, kind: JobKind[J, Any], job: J) -> None:
    """Give the job's reservation back; assumes the transaction that ended the job."""
    if job.credits_reserved and kind.credits is not None:
        kind.credits.ledger.release(job_ref=job.job_ref, feature=kind.credits.feature)


def job_usage_record_free(*, kind: JobKind[J, Any], job: J) -> None:
    """Record the usage of a job that reused a result, at cost 0."""
    if kind.credits is not None:
        kind.credits.ledger.record_free_usage(
            user=job.owner,
            feature=kind.credits.feature,
            job_ref=job.job_ref,
            usage=kind.credits.usage(job),
        )


def _elapsed(job: Job, now: datetime) -> float | None:
    if job.started_at is None:
        return None
    return round((now - job.started_at).total_seconds(), 3)


def _observe(kind: JobKind[J, Any], job: J, seconds: float, outcome: Outcome) -> None:
    kind.observe(seconds, kind.subject(job).audio_seconds, outcome)


def _announce(
    kind: JobKind[J, Any],
    job: J,
    outcome: Outcome,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    reused: bool = False,
) -> None:
    job_outcome_announce(
        JobOutcome(
            kind=kind.name,
            job_id=job.pk,
            public_id=job.public_id,
            owner_id=job.owner_id,
            outcome=outcome,
            finished_at=timezone.now(),
            resource_path=kind.resource_path(job) if kind.resource_path is not None else None,
            error_code=error_code,
            reused=reused,
            page_path=kind.page_path(job) if kind.page_path is not None else None,
            description=kind.describe(job) if kind.describe is not None else None,
            error_message=error_message,
        )
    )


def job_emit(
    kind: JobKind[J, Any],
    job: J,
    event: ProductEvent,
    **properties: str | int | float | bool | None,
) -> None:
    """Emit a product event about `job`: its id, what it works on, and `properties`."""
    subject = kind.subject(job)
    emit_event(
        event,
        user_id=job.owner_id,
        properties={
            "job_id": job.pk,
            "media_id": subject.media_id,
            "duration_seconds": subject.audio_seconds,
            **properties,
        },
    )
