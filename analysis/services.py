"""Every state change of an analysis job, through the shared job lifecycle (`jobs/`).

What is analysis's own is decided here: which features, which upload, how long the audio
may be and how long its analysis may take. Creating, claiming, running, finishing,
cancelling and sweeping are the lifecycle's, run with the `analysis` kind (analysis.kind).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction

from accounts.models import User
from analysis.errors import AnalysisJobFinished, AudioTooLong, UnknownFeature
from analysis.kind import ANALYSIS_KIND
from analysis.models import AnalysisJob
from analysis.sample import SAMPLE_TRACK
from analysis.selectors import analysis_job_get_for_user, analysis_sample_track_job_for_user
from engine.features import ENGINE_VERSION, FEATURES, UnknownFeatures, validate_features
from jobs.lifecycle import (
    job_cancel,
    job_claim,
    job_create,
    job_enqueue,
    job_fail,
    job_fail_by_id,
    job_is_retryable,
)
from jobs.runner import job_run
from jobs.sweep import SweepReport, job_kind_sweep, job_ref_is_alive
from media.errors import StorageUnavailable
from media.models import MediaFile
from media.selectors import media_get_ready_for_user
from media.services import media_upload
from media.storage import storage_delete
from media.upload import received_upload_from_path


@dataclass(frozen=True)
class TimeLimits:
    soft: int
    hard: int


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
    *, user: User, media_public_id: UUID, features: list[str] | tuple[str, ...] | None
) -> AnalysisJob:
    """Create a job for one of `user`'s media files and queue it, reserving its credits.

    A finished result of `user`'s for the same audio content, engine version and features is
    reused: the job is created already succeeded and costs nothing (its usage is recorded at
    cost 0). Another account's identical upload is analysed as its own job. Raises
    UnknownFeature, the media selectors' 404 and 409, AudioTooLong and billing's
    InsufficientCredits (402).
    """
    wanted = analysis_features_validate(features)
    media = media_get_ready_for_user(user=user, public_id=media_public_id)
    return _analysis_job_create(user=user, media=media, features=wanted, is_sample_track=False)


def _analysis_job_create(
    *, user: User, media: MediaFile, features: tuple[str, ...], is_sample_track: bool
) -> AnalysisJob:
    audio_seconds = float(media.duration_seconds or 0.0)
    if audio_seconds > settings.ANALYSIS_MAX_AUDIO_SECONDS:
        raise AudioTooLong(
            f"Files longer than {settings.ANALYSIS_MAX_AUDIO_SECONDS} seconds cannot be analysed.",
            extra={"max_audio_seconds": settings.ANALYSIS_MAX_AUDIO_SECONDS},
        )
    limits = analysis_time_limits(audio_seconds=audio_seconds)
    return job_create(
        kind=ANALYSIS_KIND,
        owner=user,
        fields={
            "media": media,
            "features": list(features),
            "features_key": ",".join(sorted(features)),
            "engine_version": ENGINE_VERSION,
            "audio_sha256": media.sha256,
            "audio_seconds": audio_seconds,
            "soft_time_limit": limits.soft,
            "time_limit": limits.hard,
            "is_sample_track": is_sample_track,
        },
    )


@dataclass(frozen=True)
class SampleTrackStart:
    job: AnalysisJob
    # False when the account had started its sample analysis before: `job` is that one.
    started: bool


def analysis_sample_track_start(*, user: User) -> SampleTrackStart:
    """Upload the bundled sample track for `user` and analyse it, free of charge, once.

    The file takes the path of every upload (validation, scan, quota, storage) and the job is
    an ordinary `analysis` job of every feature, which its kind prices at 0 credits because it
    is the sample: nothing is reserved or charged, so the ledger has no posting for it. An
    account that already started its sample analysis gets that job back (started=False),
    unless it failed: then a new one starts.
    Raises the upload's refusals (QuotaExceeded, StorageUnavailable, ...) and the job layer's
    TooManyJobs; then no sample analysis exists and a later call may try again.
    """
    existing = analysis_sample_track_job_for_user(user=user)
    if existing is not None:
        return SampleTrackStart(job=existing, started=False)
    with transaction.atomic():
        # Serialises one account's sample starts: the second request of a double click waits
        # here for the first to commit, then finds its job instead of uploading a second copy.
        # The unique constraint on the job is what guarantees one, whatever the caller.
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = analysis_sample_track_job_for_user(user=user)
        if existing is not None:
            return SampleTrackStart(job=existing, started=False)
        with received_upload_from_path(
            path=SAMPLE_TRACK.path, name=SAMPLE_TRACK.display_name
        ) as upload:
            media = media_upload(user=user, upload=upload)
        try:
            job = _analysis_job_create(
                user=user,
                media=media,
                features=analysis_features_validate(None),
                is_sample_track=True,
            )
        except BaseException:
            # The rollback takes the media row with it; its stored object must not outlive it.
            with contextlib.suppress(StorageUnavailable):
                storage_delete(key=media.storage_key)
            raise
    return SampleTrackStart(job=job, started=True)


def analysis_job_enqueue(*, job: AnalysisJob) -> bool:
    """Publish the job's task; False when the broker refused it (the sweep retries)."""
    return job_enqueue(kind=ANALYSIS_KIND, job=job)


def analysis_job_claim(*, job_id: int, worker_host: str) -> AnalysisJob | None:
    """Move a queued job to running for this worker; None when it is not queued any more."""
    return job_claim(kind=ANALYSIS_KIND, job_id=job_id, worker_host=worker_host)


def analysis_job_run(*, job_id: int, worker_host: str | None = None) -> None:
    """Run a queued job to its end (jobs.runner.job_run): analyse, store, charge, once.

    Engine refusals and crashes end the job as failed and release its credits; transient
    errors requeue it and propagate for the caller's retry.
    """
    job_run(kind=ANALYSIS_KIND, job_id=job_id, worker_host=worker_host)


def analysis_job_fail(
    *, job: AnalysisJob, code: str, message: str, attempt: int | None = None
) -> bool:
    """End a queued or running job as failed and release its credits; False if already over."""
    return job_fail(kind=ANALYSIS_KIND, job=job, code=code, message=message, attempt=attempt)


def analysis_job_fail_by_id(*, job_id: int, code: str) -> bool:
    """Fail a job from outside its run (a hard time limit, exhausted retries)."""
    return job_fail_by_id(kind=ANALYSIS_KIND, job_id=job_id, code=code)


def analysis_job_cancel(*, user: User, public_id: UUID) -> AnalysisJob:
    """Cancel one of `user`'s queued or running jobs and release its credits.

    A running engine notices at its next progress report and stops. Raises the selector's
    404 and AnalysisJobFinished (409) when the job already ended.
    """
    job = analysis_job_get_for_user(user=user, public_id=public_id)
    if not job_cancel(kind=ANALYSIS_KIND, job=job):
        job.refresh_from_db()
        raise AnalysisJobFinished(
            f"This analysis already ended ({job.status}).", extra={"status": job.status}
        )
    job.refresh_from_db()
    return job


def analysis_job_retry(*, job: AnalysisJob) -> AnalysisJob:
    """Start a new job like a failed or cancelled one (staff action); reserves anew."""
    if not job_is_retryable(job):
        raise AnalysisJobFinished("Only failed or cancelled analyses can be retried.")
    return analysis_job_create(
        user=job.owner, media_public_id=job.media.public_id, features=job.features
    )


def analysis_jobs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Fail analysis jobs whose worker vanished, publish jobs the broker never accepted, and
    release credits of jobs that are gone (jobs.sweep.job_kind_sweep).
    """
    return job_kind_sweep(kind=ANALYSIS_KIND, now=now)


def analysis_job_ref_is_alive(job_ref: str) -> bool:
    """Whether the job a ledger reference names may still capture or release its credits."""
    return job_ref_is_alive(job_ref)
