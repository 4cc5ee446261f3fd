"""Every state change of an analysis job: create, claim, run, finish, cancel, sweep.

Each transition is a conditional UPDATE on `status` (and, once running, on `attempts`, which
names the claim) that must touch exactly one row. Whoever touches zero rows lost a race to
another worker, a cancel or the sweep, and backs off without writing anything else. Credits
move in the same transaction as the transition that justifies them: reserve with creation,
capture with success, release with failure or cancellation.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from analysis.errors import AnalysisJobFinished, AudioTooLong, UnknownFeature
from analysis.models import AnalysisJob
from analysis.selectors import (
    AUDIO_ANALYSIS_FEATURES,
    analysis_job_get_for_user,
    analysis_job_reusable,
)
from billing.selectors import price_for
from billing.services import (
    credits_capture,
    credits_release,
    credits_release_stale,
    credits_reserve,
    feature_usage_record_free,
)
from core.logging import job_id_var
from engine.errors import EngineError
from engine.features import ENGINE_VERSION, FEATURES, UnknownFeatures, validate_features
from engine.results import AnalysisResult
from media.errors import MediaNotAvailable, StorageUnavailable
from media.selectors import media_get_ready_for_user, media_open_local_copy
from media.storage import STORAGE_ERRORS
from telemetry.reporting import capture_processing_error, emit_event, observe_analysis
from telemetry.tracing import ProgressCallback, stage_spans

logger = logging.getLogger(__name__)

CREDITS_FEATURE = "analysis"
# Arrays too large for a database row: stored gzip-compressed and loaded on demand.
ARRAY_FEATURES = ("timeline", "waveform")
# Failures of what the job depends on rather than of the audio: worth retrying with backoff.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    StorageUnavailable,
)

# What publishing raises while the broker is unreachable.
PUBLISH_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, ConnectionError, OSError)
_PROGRESS_MIN_INTERVAL_SECONDS = 0.5
# A job committed this long ago and still unpublished lost its publish to a broker outage.
_REPUBLISH_AFTER_SECONDS = 30
_FAILURE_MESSAGES = {
    "timeout": "The analysis took longer than its time limit for this audio duration.",
    "engine_crash": "The analysis engine stopped unexpectedly while processing this file.",
    "service_unavailable": "A service the analysis depends on stayed unavailable; try again.",
}


class JobNoLongerRunning(Exception):
    """The job left `running` under this worker (cancelled, or failed by the sweep)."""


@dataclass(frozen=True)
class TimeLimits:
    soft: int
    hard: int


@dataclass(frozen=True)
class SweepReport:
    timed_out: int
    crashed: int
    republished: int
    reservations_released: int


def analysis_features_validate(features: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Return the requested features in canonical order; None or empty means all of them.

    Raises UnknownFeature (400) listing the allowed names.
    """
    try:
        return validate_features(features)
    except UnknownFeatures as error:
        raise UnknownFeature(
            str(error), extra={"allowed": list(FEATURES), "unknown": error.unknown}
        ) from error


def analysis_time_limits(*, audio_seconds: float) -> TimeLimits:
    """Soft and hard time limits (seconds) for analysing `audio_seconds` of audio."""
    soft = math.ceil(
        settings.ANALYSIS_TIME_LIMIT_BASE_SECONDS
        + settings.ANALYSIS_TIME_LIMIT_PER_AUDIO_SECOND * max(audio_seconds, 0.0)
    )
    return TimeLimits(soft=soft, hard=soft + settings.ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS)


def analysis_job_create(
    *, user: User, media_id: int, features: list[str] | tuple[str, ...] | None
) -> AnalysisJob:
    """Create a job for one of `user`'s media files and queue it, reserving its credits.

    A finished result for the same audio content, engine version and features is reused: the
    job is created already succeeded and costs nothing (its usage is recorded at cost 0).
    Raises UnknownFeature, the media selectors' 404 and 409, AudioTooLong and billing's
    InsufficientCredits (402).
    """
    wanted = analysis_features_validate(features)
    media = media_get_ready_for_user(user=user, media_id=media_id)
    audio_seconds = float(media.duration_seconds or 0.0)
    if audio_seconds > settings.ANALYSIS_MAX_AUDIO_SECONDS:
        raise AudioTooLong(
            f"Files longer than {settings.ANALYSIS_MAX_AUDIO_SECONDS} seconds cannot be analysed.",
            extra={"max_audio_seconds": settings.ANALYSIS_MAX_AUDIO_SECONDS},
        )
    features_key = ",".join(sorted(wanted))
    limits = analysis_time_limits(audio_seconds=audio_seconds)
    fields: dict[str, Any] = {
        "owner": user,
        "media": media,
        "features": list(wanted),
        "features_key": features_key,
        "engine_version": ENGINE_VERSION,
        "audio_sha256": media.sha256,
        "audio_seconds": audio_seconds,
        "soft_time_limit": limits.soft,
        "time_limit": limits.hard,
    }
    source = analysis_job_reusable(
        sha256=media.sha256, engine_version=ENGINE_VERSION, features_key=features_key
    )
    if source is not None:
        now = timezone.now()
        with transaction.atomic():
            job = AnalysisJob.objects.create(
                **fields,
                status=AnalysisJob.Status.SUCCEEDED,
                stage="done",
                progress=100,
                started_at=now,
                finished_at=now,
                processing_seconds=0.0,
                reused_from=source.reused_from or source,
                result=source.result,
                arrays_key=source.arrays_key,
                audio_analysis_key=source.audio_analysis_key,
            )
            feature_usage_record_free(
                user=user,
                feature=CREDITS_FEATURE,
                job_ref=job.job_ref,
                usage_quantity=round(audio_seconds),
                usage_unit="audio_seconds",
            )
        _emit(job, "analysis_completed", processing_seconds=0.0, reused=True)
        return job

    with transaction.atomic():
        job = AnalysisJob.objects.create(**fields)
        cost = price_for(CREDITS_FEATURE, audio_seconds)
        # A zero price (free deployments) has nothing to hold; the ledger refuses empty holds.
        if cost > 0:
            credits_reserve(
                user=user,
                amount=cost,
                feature=CREDITS_FEATURE,
                job_ref=job.job_ref,
                idempotency_key=f"{job.job_ref}:reserve",
                expires_at=timezone.now() + timedelta(hours=settings.ANALYSIS_RESERVATION_HOURS),
            )
            AnalysisJob.objects.filter(pk=job.pk).update(credits_reserved=cost)
            job.credits_reserved = cost
        transaction.on_commit(lambda: analysis_job_enqueue(job=job))
    _emit(job, "analysis_started")
    return job


def analysis_job_enqueue(*, job: AnalysisJob) -> bool:
    """Publish the job's task with time limits scaled to its audio duration.

    Returns False when the broker refused it; the job stays unpublished and the sweep retries.
    """
    from analysis.tasks import analysis_job_run as task

    try:
        task.apply_async(
            args=(job.pk,), soft_time_limit=job.soft_time_limit, time_limit=job.time_limit
        )
    except PUBLISH_ERRORS:
        logger.warning("analysis job %s could not be published; the sweep retries", job.pk)
        return False
    AnalysisJob.objects.filter(pk=job.pk).update(published_at=timezone.now())
    return True


def analysis_job_claim(*, job_id: int, worker_host: str) -> AnalysisJob | None:
    """Move a queued job to running for this worker; None when it is not queued any more."""
    now = timezone.now()
    # The claim: of two deliveries of one task (a redelivery, a duplicate publish, two workers),
    # exactly one UPDATE matches status=queued; the other touches no row and does nothing.
    claimed = AnalysisJob.objects.filter(pk=job_id, status=AnalysisJob.Status.QUEUED).update(
        status=AnalysisJob.Status.RUNNING,
        stage="starting",
        progress=0,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        worker_host=worker_host[:200],
    )
    if claimed != 1:
        return None
    return AnalysisJob.objects.select_related("media", "owner").get(pk=job_id)


def _running(job: AnalysisJob) -> Q:
    """Rows still held by this claim of `job` (the attempt number names the claim)."""
    return Q(pk=job.pk, status=AnalysisJob.Status.RUNNING, attempts=job.attempts)


def _mark_succeeded(job: AnalysisJob, **result_fields: Any) -> bool:
    """Move this claim of `job` from running to succeeded; False when it is no longer running.

    A cancel and the sweep also move running jobs: of the racing UPDATEs exactly one matches.
    """
    touched = AnalysisJob.objects.filter(_running(job)).update(
        status=AnalysisJob.Status.SUCCEEDED,
        stage="done",
        progress=100,
        finished_at=timezone.now(),
        **result_fields,
    )
    return touched == 1


class _Progress:
    """The engine's progress callback: records stage and percent, and stops a dropped job."""

    def __init__(self, job: AnalysisJob) -> None:
        self.job = job
        self.last_write = 0.0
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, percent: int) -> None:
        now = time.monotonic()
        if (stage, percent) == self.last:
            return
        if stage == self.last[0] and now - self.last_write < _PROGRESS_MIN_INTERVAL_SECONDS:
            return
        self.last, self.last_write = (stage, percent), now
        touched = AnalysisJob.objects.filter(_running(self.job)).update(
            stage=stage[:32], progress=max(0, min(100, percent)), heartbeat_at=timezone.now()
        )
        if touched != 1:
            raise JobNoLongerRunning(self.job.pk)


class _Heartbeat(threading.Thread):
    """Refresh `heartbeat_at` while the engine works, so the sweep can tell a live job apart.

    It dies with the process: a killed worker stops beating and the sweep fails the job.
    """

    def __init__(self, job: AnalysisJob) -> None:
        super().__init__(name=f"analysis-heartbeat-{job.pk}", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.ANALYSIS_HEARTBEAT_SECONDS):
                try:
                    AnalysisJob.objects.filter(_running(self.job)).update(
                        heartbeat_at=timezone.now()
                    )
                except TRANSIENT_ERRORS:
                    logger.warning("analysis heartbeat write failed", exc_info=True)
        finally:
            # The thread's own database connection; Django opens one per thread.
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def analysis_job_run(*, job_id: int, worker_host: str | None = None) -> None:
    """Run a queued job to its end: claim it, analyse its audio, store and charge the result.

    A job that is not queued (finished, or held by another delivery) is left untouched. A job
    whose result was computed meanwhile by another job over the same audio reuses it for free.
    Engine refusals and crashes end the job as failed with the engine's code and release its
    credits. Transient errors put the job back to queued and propagate for the caller's
    retry; Celery's SoftTimeLimitExceeded ends it as failed with `timeout`.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    host = worker_host or socket.gethostname()
    job = analysis_job_claim(job_id=job_id, worker_host=host)
    if job is None:
        logger.info("analysis job %s is not queued; another delivery handled it", job_id)
        return
    if _reuse_if_computed_meanwhile(job):
        return
    token = job_id_var.set(str(job.pk))
    heartbeat = _Heartbeat(job)
    heartbeat.start()
    started = time.monotonic()
    try:
        # In a traced run each stage (decode, rhythm, tonal, ..., store) becomes a span.
        with stage_spans(_Progress(job)) as progress:
            result = _analyse(job, progress)
            progress("storing", 99)
            stored = _store_result(job, result)
        analysis_job_succeed(
            job=job, result=result, stored=stored, seconds=time.monotonic() - started
        )
    except JobNoLongerRunning:
        logger.info("analysis job %s left running while it ran; result dropped", job.pk)
    except EngineError as error:
        _fail_after_error(job, error, code=error.code, message=error.message)
    except MediaNotAvailable as error:
        analysis_job_fail(job=job, code=error.code, message=str(error), attempt=job.attempts)
    except SoftTimeLimitExceeded as error:
        _fail_after_error(job, error, code="timeout", message=_FAILURE_MESSAGES["timeout"])
    except TRANSIENT_ERRORS:
        _requeue(job)
        raise
    except Exception as error:
        logger.exception("analysis job %s crashed", job.pk)
        _fail_after_error(
            job, error, code="engine_crash", message=_FAILURE_MESSAGES["engine_crash"]
        )
    finally:
        heartbeat.stop()
        job_id_var.reset(token)


def _reuse_if_computed_meanwhile(job: AnalysisJob) -> bool:
    """Finish a just-claimed job from an identical job that succeeded while it was queued."""
    source = analysis_job_reusable(
        sha256=job.audio_sha256, engine_version=ENGINE_VERSION, features_key=job.features_key
    )
    if source is None:
        return False
    with transaction.atomic():
        if not _mark_succeeded(
            job,
            processing_seconds=0.0,
            engine_version=ENGINE_VERSION,
            reused_from_id=source.reused_from_id or source.pk,
            result=source.result,
            arrays_key=source.arrays_key,
            audio_analysis_key=source.audio_analysis_key,
        ):
            return True
        _release(job)
        feature_usage_record_free(
            user=job.owner,
            feature=CREDITS_FEATURE,
            job_ref=job.job_ref,
            usage_quantity=round(job.audio_seconds),
            usage_unit="audio_seconds",
        )
    _emit(job, "analysis_completed", processing_seconds=0.0, reused=True)
    return True


def _analyse(job: AnalysisJob, progress: ProgressCallback) -> AnalysisResult:
    # Imported here so that only a worker running a job loads Essentia.
    from engine.pipeline import analyze

    progress("fetching", 0)
    with media_open_local_copy(media=job.media) as local:
        return analyze(
            local.path,
            features=job.features,
            progress=progress,
            input_format=local.input_format or None,
            timeout=float(job.soft_time_limit),
        )


def _split_result(result: AnalysisResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary kept in the row, and the per-frame arrays kept in storage."""
    data = result.to_dict()
    arrays = {name: data.pop(name) for name in ARRAY_FEATURES if name in data}
    return data, arrays


@dataclass(frozen=True)
class StoredResult:
    arrays_key: str
    audio_analysis_key: str


def _store_gzip_json(name: str, data: dict[str, Any]) -> str:
    payload = gzip.compress(json.dumps(data, separators=(",", ":")).encode(), compresslevel=6)
    try:
        return default_storage.save(name, ContentFile(payload))
    except STORAGE_ERRORS as error:
        raise StorageUnavailable("The analysis result could not be stored.") from error


def _store_result(job: AnalysisJob, result: AnalysisResult) -> StoredResult:
    """Write the arrays and the Spotify-style view (when its features were computed)."""
    from engine.spotify import to_audio_analysis

    _, arrays = _split_result(result)
    arrays_key = _store_gzip_json(f"analysis/{job.pk}/arrays.json.gz", arrays) if arrays else ""
    audio_analysis_key = ""
    if set(AUDIO_ANALYSIS_FEATURES) <= set(result.features):
        audio_analysis_key = _store_gzip_json(
            f"analysis/{job.pk}/audio-analysis.json.gz", to_audio_analysis(result)
        )
    return StoredResult(arrays_key=arrays_key, audio_analysis_key=audio_analysis_key)


def analysis_job_succeed(
    *, job: AnalysisJob, result: AnalysisResult, stored: StoredResult, seconds: float
) -> None:
    """Record a finished analysis and capture its credits, once.

    Raises JobNoLongerRunning when the job was cancelled or swept meanwhile: then nothing is
    recorded and nothing charged.
    """
    summary, _ = _split_result(result)
    with transaction.atomic():
        if not _mark_succeeded(
            job,
            processing_seconds=round(seconds, 3),
            engine_version=result.engine_version,
            result=summary,
            arrays_key=stored.arrays_key,
            audio_analysis_key=stored.audio_analysis_key,
        ):
            raise JobNoLongerRunning(job.pk)
        if job.credits_reserved:
            credits_capture(
                job_ref=job.job_ref,
                feature=CREDITS_FEATURE,
                usage_quantity=round(job.audio_seconds),
                usage_unit="audio_seconds",
            )
    observe_analysis(seconds, job.audio_seconds, "succeeded")
    _emit(job, "analysis_completed", processing_seconds=round(seconds, 3), reused=False)


def _requeue(job: AnalysisJob) -> None:
    """Give a claim back after a transient failure so the retried task can claim it again."""
    try:
        AnalysisJob.objects.filter(_running(job)).update(
            status=AnalysisJob.Status.QUEUED, stage="retrying", heartbeat_at=None
        )
    except TRANSIENT_ERRORS:
        logger.warning("analysis job %s could not be requeued; the sweep will end it", job.pk)


def _fail_after_error(job: AnalysisJob, error: BaseException, *, code: str, message: str) -> None:
    if code not in {"undecodable_audio", "unsupported_audio"}:
        capture_processing_error(
            error,
            operation="analysis",
            user_id=job.owner_id,
            media_id=job.media_id,
            job_id=job.pk,
            metadata={"code": code, "audio_seconds": job.audio_seconds},
        )
    analysis_job_fail(job=job, code=code, message=message, attempt=job.attempts)


def analysis_job_fail(
    *, job: AnalysisJob, code: str, message: str, attempt: int | None = None
) -> bool:
    """End a queued or running job as failed and release its credits; False if already over.

    With `attempt`, only that claim of a running job is failed (a worker failing its own run).
    """
    condition = Q(pk=job.pk, status__in=[AnalysisJob.Status.QUEUED, AnalysisJob.Status.RUNNING])
    if attempt is not None:
        condition &= Q(attempts=attempt)
    now = timezone.now()
    elapsed = _elapsed(job, now)
    with transaction.atomic():
        touched = AnalysisJob.objects.filter(condition).update(
            status=AnalysisJob.Status.FAILED,
            error_code=code[:32],
            error_message=message[:500],
            finished_at=now,
            processing_seconds=elapsed,
            heartbeat_at=None,
        )
        if touched != 1:
            return False
        _release(job)
    observe_analysis(elapsed or 0.0, job.audio_seconds, "failed")
    _emit(job, "analysis_failed", code=code, processing_seconds=elapsed)
    return True


def _elapsed(job: AnalysisJob, now: datetime) -> float | None:
    if job.started_at is None:
        return None
    return round((now - job.started_at).total_seconds(), 3)


def analysis_job_fail_by_id(*, job_id: int, code: str) -> bool:
    """Fail a job from outside its run (a hard time limit, exhausted retries)."""
    job = AnalysisJob.objects.filter(pk=job_id).first()
    if job is None:
        return False
    return analysis_job_fail(job=job, code=code, message=_FAILURE_MESSAGES[code])


def analysis_job_cancel(*, user: User, job_id: int) -> AnalysisJob:
    """Cancel one of `user`'s queued or running jobs and release its credits.

    A running engine notices at its next progress report and stops. Raises the selector's
    404 and AnalysisJobFinished (409) when the job already ended.
    """
    job = analysis_job_get_for_user(user=user, job_id=job_id)
    with transaction.atomic():
        # Racing the worker's success and the sweep: only one transition out of running wins.
        touched = AnalysisJob.objects.filter(
            pk=job.pk, status__in=[AnalysisJob.Status.QUEUED, AnalysisJob.Status.RUNNING]
        ).update(status=AnalysisJob.Status.CANCELLED, finished_at=timezone.now(), heartbeat_at=None)
        if touched != 1:
            job.refresh_from_db()
            raise AnalysisJobFinished(
                f"This analysis already ended ({job.status}).", extra={"status": job.status}
            )
        _release(job)
    observe_analysis(_elapsed(job, timezone.now()) or 0.0, job.audio_seconds, "cancelled")
    _emit(job, "analysis_cancelled")
    job.refresh_from_db()
    return job


def analysis_job_retry(*, job: AnalysisJob) -> AnalysisJob:
    """Start a new job like a failed or cancelled one (staff action); reserves anew."""
    if job.status not in (AnalysisJob.Status.FAILED, AnalysisJob.Status.CANCELLED):
        raise AnalysisJobFinished("Only failed or cancelled analyses can be retried.")
    return analysis_job_create(user=job.owner, media_id=job.media_id, features=job.features)


def _release(job: AnalysisJob) -> None:
    if job.credits_reserved:
        credits_release(job_ref=job.job_ref, feature=CREDITS_FEATURE)


def analysis_jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Fail running jobs whose worker vanished, publish jobs the broker never accepted, and
    release credits of jobs that are gone.

    A job running past its hard time limit plus the heartbeat allowance ends as `timeout`;
    one whose heartbeat stopped earlier ends as `engine_crash`. Each goes through
    analysis_job_fail, whose conditional UPDATE loses cleanly to a worker finishing meanwhile.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.ANALYSIS_HEARTBEAT_STALE_SECONDS)
    timed_out = crashed = 0
    running = AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING)
    for job in running.iterator():
        assert job.started_at is not None  # noqa: S101 - claimed jobs always have started_at
        deadline = job.started_at + timedelta(
            seconds=job.time_limit + settings.ANALYSIS_HEARTBEAT_STALE_SECONDS
        )
        if now > deadline:
            code = "timeout"
        elif job.heartbeat_at is None or job.heartbeat_at < stale:
            code = "engine_crash"
        else:
            continue
        if analysis_job_fail(job=job, code=code, message=_FAILURE_MESSAGES[code]):
            logger.warning("analysis job %s swept as %s", job.pk, code)
            if code == "timeout":
                timed_out += 1
            else:
                crashed += 1
    unpublished = AnalysisJob.objects.filter(
        status=AnalysisJob.Status.QUEUED,
        published_at__isnull=True,
        queued_at__lt=now - timedelta(seconds=_REPUBLISH_AFTER_SECONDS),
    )
    republished = sum(analysis_job_enqueue(job=job) for job in unpublished.iterator())
    released = credits_release_stale(is_job_alive=analysis_job_ref_is_alive)
    return SweepReport(
        timed_out=timed_out,
        crashed=crashed,
        republished=republished,
        reservations_released=released,
    )


def analysis_job_ref_is_alive(job_ref: str) -> bool:
    """Whether the job a ledger reference names may still capture or release its credits."""
    prefix, _, raw_id = job_ref.partition(":")
    if prefix != "analysis" or not raw_id.isdigit():
        return True
    return AnalysisJob.objects.filter(
        pk=int(raw_id), status__in=[AnalysisJob.Status.QUEUED, AnalysisJob.Status.RUNNING]
    ).exists()


def _emit(job: AnalysisJob, event: Any, **properties: str | int | float | bool | None) -> None:
    emit_event(
        event,
        user_id=job.owner_id,
        properties={
            "job_id": job.pk,
            "media_id": job.media_id,
            "duration_seconds": job.audio_seconds,
            **properties,
        },
    )
