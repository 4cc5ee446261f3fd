"""The `analysis` job kind: the engine over one upload, stored as analysis.results says.

Everything else of an analysis job's life (creation with its reservation, claiming,
heartbeat, retries, time limits, the sweep) is the shared job lifecycle in `jobs/`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.urls import reverse

from analysis.models import AnalysisJob
from analysis.results import analysis_result_store
from analysis.selectors import analysis_job_reusable
from analysis.tasks import analysis_job_run as run_task
from billing.job_credits import JOB_LEDGER
from billing.selectors import price_for
from engine.errors import EngineError
from engine.features import ENGINE_VERSION
from engine.results import AnalysisResult
from jobs.credits import Usage
from jobs.errors import JobRefused
from jobs.kinds import (
    JobCredits,
    JobEvents,
    JobKind,
    JobSubject,
    JobTimings,
    ProgressCallback,
    job_kind_register,
)
from media.errors import MediaNotAvailable, StorageUnavailable
from media.preview import media_preview_make
from media.selectors import LocalAudio, media_open_local_copy
from telemetry.reporting import observe_analysis

logger = logging.getLogger(__name__)

CREDITS_FEATURE = "analysis"
# Refusals that are a property of the upload, not a fault of ours: not worth an error report.
_QUIET_ENGINE_CODES = frozenset({"undecodable_audio", "unsupported_audio"})


def _analyse(job: AnalysisJob, progress: ProgressCallback) -> AnalysisResult:
    """Run the engine over the job's audio; raises JobRefused for audio it cannot analyse."""
    # Imported here so that only a worker running a job loads Essentia.
    from engine.pipeline import analyze

    try:
        progress("fetching", 0)
        with media_open_local_copy(media=job.media) as local:
            result = analyze(
                local.path,
                features=job.features,
                progress=progress,
                input_format=local.input_format or None,
                timeout=float(job.soft_time_limit),
            )
            _preview(job, local)
            return result
    except EngineError as error:
        raise JobRefused(
            code=error.code, message=error.message, report=error.code not in _QUIET_ENGINE_CODES
        ) from error
    except MediaNotAvailable as error:
        raise JobRefused(code=error.code, message=str(error), report=False) from error


def _preview(job: AnalysisJob, local: LocalAudio) -> None:
    """Have media make the upload's playable preview while the audio is at hand, if the
    upload's own preview task has not made it yet (an existing preview is kept as it is).

    The result does not depend on it: without a preview the page plays the original upload.
    """
    try:
        media_preview_make(media_id=job.media_id, local=local)
    except StorageUnavailable:
        logger.warning("the preview of media %s could not be stored", job.media_id)


def _reusable(job: AnalysisJob) -> dict[str, Any] | None:
    """The result of the owner's identical finished analysis, as fields to copy, if any."""
    source = analysis_job_reusable(
        owner_id=job.owner_id,
        sha256=job.audio_sha256,
        engine_version=ENGINE_VERSION,
        features_key=job.features_key,
    )
    if source is None:
        return None
    return {
        "engine_version": ENGINE_VERSION,
        "reused_from_id": source.reused_from_id or source.pk,
        "result": source.result,
        "arrays_key": source.arrays_key,
        "audio_analysis_key": source.audio_analysis_key,
    }


def _timings() -> JobTimings:
    return JobTimings(
        heartbeat_seconds=settings.ANALYSIS_HEARTBEAT_SECONDS,
        stale_seconds=settings.ANALYSIS_HEARTBEAT_STALE_SECONDS,
        reservation_hours=settings.ANALYSIS_RESERVATION_HOURS,
        retry_backoff_seconds=settings.ANALYSIS_RETRY_BACKOFF_SECONDS,
        retry_backoff_max_seconds=settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS,
    )


ANALYSIS_KIND: JobKind[AnalysisJob, AnalysisResult] = JobKind(
    name=AnalysisJob.KIND,
    version=ENGINE_VERSION,
    model=AnalysisJob,
    queue="analysis",
    task=run_task,
    credits=JobCredits(
        feature=CREDITS_FEATURE,
        ledger=JOB_LEDGER,
        # The sample track's analysis is the one free analysis an account gets.
        price=lambda job: (
            0 if job.is_sample_track else price_for(CREDITS_FEATURE, job.audio_seconds)
        ),
        usage=lambda job: Usage(quantity=round(job.audio_seconds), unit="audio_seconds"),
    ),
    run=_analyse,
    store=analysis_result_store,
    reusable=_reusable,
    timings=_timings,
    subject=lambda job: JobSubject(media_id=job.media_id, audio_seconds=job.audio_seconds),
    events=JobEvents(
        started="analysis_started",
        completed="analysis_completed",
        failed="analysis_failed",
        cancelled="analysis_cancelled",
    ),
    observe=observe_analysis,
    failure_messages={
        "timeout": "The analysis took longer than its time limit for this audio duration.",
        "engine_crash": "The analysis engine stopped unexpectedly while processing this file.",
        "service_unavailable": "A service the analysis depends on stayed unavailable; try again.",
    },
    claim_related=("media",),
    extra_transient_errors=(StorageUnavailable,),
    resource_path=lambda job: reverse("api:analysis-detail", kwargs={"job_id": job.public_id}),
    page_path=lambda job: reverse("analysis:job-detail", kwargs={"job_id": job.public_id}),
    describe=lambda job: f"analysis of {job.media}",
)


def analysis_kind_register() -> None:
    """Make the `analysis` kind known to the job layer (from AnalysisConfig.ready())."""
    job_kind_register(ANALYSIS_KIND)
