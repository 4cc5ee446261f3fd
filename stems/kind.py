"""The `stem_separation` job kind: the stem engine over one upload, stored as stems.results says.

Everything else of a separation's life (creation with its reservation, claiming, heartbeat,
retries, time limits, the sweep) is the shared job lifecycle in `jobs/`.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.conf import settings
from django.urls import reverse

from billing.job_credits import JOB_LEDGER
from billing.selectors import price_for
from engine.errors import EngineError
from engine.stems import STEMS_VERSION
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
from media.selectors import media_open_local_copy
from stems.models import StemSeparationJob
from stems.results import Separated, stem_result_store
from stems.tasks import stem_separation_job_run as run_task
from telemetry.reporting import observe_stem_separation

CREDITS_FEATURE = "stem_separation"
# Refusals that are a property of the upload, not a fault of ours: not worth an error report.
_QUIET_ENGINE_CODES = frozenset({"undecodable_audio", "unsupported_audio"})


def _separate(job: StemSeparationJob, progress: ProgressCallback) -> Separated:
    """Run the stem engine over the job's audio; raises JobRefused for audio it cannot split."""
    # Imported here so that only a worker running a job loads the engine.
    from engine.stems import separate

    folder = tempfile.TemporaryDirectory(prefix=f"phonoglyph-stems-{job.pk}-")
    try:
        progress("fetching", 0)
        with media_open_local_copy(media=job.media) as local:
            result = separate(
                local.path,
                folder.name,
                weights_dir=settings.STEMS_WEIGHTS_DIR,
                input_format=local.input_format or None,
                progress=progress,
                timeout=float(job.soft_time_limit),
            )
    except EngineError as error:
        folder.cleanup()
        raise JobRefused(
            code=error.code, message=error.message, report=error.code not in _QUIET_ENGINE_CODES
        ) from error
    except MediaNotAvailable as error:
        folder.cleanup()
        raise JobRefused(code=error.code, message=str(error), report=False) from error
    except BaseException:
        folder.cleanup()
        raise
    return Separated(result=result, folder=folder)


def _timings() -> JobTimings:
    return JobTimings(
        heartbeat_seconds=settings.ANALYSIS_HEARTBEAT_SECONDS,
        stale_seconds=settings.ANALYSIS_HEARTBEAT_STALE_SECONDS,
        reservation_hours=settings.ANALYSIS_RESERVATION_HOURS,
        retry_backoff_seconds=settings.ANALYSIS_RETRY_BACKOFF_SECONDS,
        retry_backoff_max_seconds=settings.ANALYSIS_RETRY_BACKOFF_MAX_SECONDS,
    )


def _never_reused(job: StemSeparationJob) -> dict[str, Any] | None:
    # Each job owns its stored files (they go with its media), so results are not shared.
    return None


STEM_SEPARATION_KIND: JobKind[StemSeparationJob, Separated] = JobKind(
    name=StemSeparationJob.KIND,
    version=STEMS_VERSION,
    model=StemSeparationJob,
    queue="stems",
    task=run_task,
    credits=JobCredits(
        feature=CREDITS_FEATURE,
        ledger=JOB_LEDGER,
        price=lambda job: price_for(CREDITS_FEATURE, job.audio_seconds),
        usage=lambda job: Usage(quantity=round(job.audio_seconds), unit="audio_seconds"),
    ),
    run=_separate,
    store=stem_result_store,
    reusable=_never_reused,
    timings=_timings,
    subject=lambda job: JobSubject(media_id=job.media_id, audio_seconds=job.audio_seconds),
    events=JobEvents(
        started="stem_separation_started",
        completed="stem_separation_completed",
        failed="stem_separation_failed",
        cancelled="stem_separation_cancelled",
    ),
    observe=observe_stem_separation,
    failure_messages={
        "timeout": "The separation took longer than its time limit for this audio duration.",
        "engine_crash": "The separation engine stopped unexpectedly while processing this file.",
        "service_unavailable": "A service the separation depends on stayed unavailable; retry.",
    },
    claim_related=("media",),
    extra_transient_errors=(StorageUnavailable,),
    resource_path=lambda job: reverse(
        "api:stem-separation-detail", kwargs={"job_id": job.public_id}
    ),
    page_path=lambda job: reverse("stems:job-detail", kwargs={"job_id": job.public_id}),
    describe=lambda job: f"stem separation of {job.media}",
)


def stem_separation_kind_register() -> None:
    """Make the `stem_separation` kind known to the job layer (from StemsConfig.ready())."""
    job_kind_register(STEM_SEPARATION_KIND)
