"""Reads of analysis jobs, each scoped to the user asking, and of their stored arrays."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.db.models import Count, QuerySet

from accounts.models import User
from analysis.cache import result_part_cached, result_part_cached_get
from analysis.errors import AnalysisFeatureMissing, AnalysisJobNotFound, AnalysisNotSucceeded
from analysis.models import AnalysisJob
from jobs.progress import JobProgress, job_progress_measured

# What the Spotify-style view is built from (engine.spotify.to_audio_analysis).
AUDIO_ANALYSIS_FEATURES = ("tempo", "key", "loudness", "onsets", "sections", "timeline")


def analysis_job_list_for_user(*, user: User) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.filter(owner=user).select_related("media")


def analysis_job_get_for_user(*, user: User, public_id: UUID) -> AnalysisJob:
    """One of `user`'s jobs; another user's job is indistinguishable from a missing one (404)."""
    job = analysis_job_list_for_user(user=user).filter(public_id=public_id).first()
    if job is None:
        raise AnalysisJobNotFound("No such analysis.")
    return job


def analysis_sample_track_job_for_user(*, user: User) -> AnalysisJob | None:
    """The account's free analysis of the sample track (analysis.sample), if it started one
    that has not failed."""
    return (
        analysis_job_list_for_user(user=user)
        .filter(is_sample_track=True)
        .exclude(status=AnalysisJob.Status.FAILED)
        .first()
    )


def analysis_job_reusable(
    *, owner_id: int, sha256: str, engine_version: str, features_key: str
) -> AnalysisJob | None:
    """One of the owner's succeeded jobs over the same audio, engine version and features.

    Only the owner's own: a result another account computed is never handed over, even for
    identical audio, so its existence cannot be probed by uploading a guessed file.
    """
    return (
        AnalysisJob.objects.filter(
            owner_id=owner_id,
            audio_sha256=sha256,
            engine_version=engine_version,
            features_key=features_key,
            status=AnalysisJob.Status.SUCCEEDED,
        )
        .order_by("finished_at", "pk")
        .first()
    )


def _succeeded(job: AnalysisJob) -> None:
    if job.status != AnalysisJob.Status.SUCCEEDED:
        raise AnalysisNotSucceeded(
            f"The analysis has not succeeded ({job.status}).", extra={"status": job.status}
        )


def _read(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        data: bytes = handle.read()
    return data


def analysis_arrays_gzip(*, job: AnalysisJob) -> bytes:
    """The stored gzip JSON of a succeeded job's per-frame arrays (timeline, waveform).

    Raises AnalysisNotSucceeded (409) before the job succeeded, and AnalysisFeatureMissing
    (409) when it computed neither timeline nor waveform.
    """
    _succeeded(job)
    if not job.arrays_key:
        raise AnalysisFeatureMissing(
            "This analysis has no timeline or waveform; request those features.",
            extra={"features": job.features},
        )
    return result_part_cached(job, "arrays", lambda: _read(job.arrays_key))


def analysis_arrays_gzip_for_user(*, user: User, public_id: UUID) -> bytes:
    """analysis_arrays_gzip of one of `user`'s jobs; a cached one needs no read of the job.

    Raises AnalysisJobNotFound (404) as analysis_job_get_for_user does.
    """
    cached = result_part_cached_get(owner_id=user.pk, public_id=public_id, part="arrays")
    if cached is not None:
        return cached
    return analysis_arrays_gzip(job=analysis_job_get_for_user(user=user, public_id=public_id))


def analysis_arrays_get(*, job: AnalysisJob) -> dict[str, Any]:
    arrays: dict[str, Any] = json.loads(gzip.decompress(analysis_arrays_gzip(job=job)))
    return arrays


def analysis_audio_analysis_gzip(*, job: AnalysisJob) -> bytes:
    """The stored gzip JSON of a succeeded job's Spotify-style view.

    Raises AnalysisNotSucceeded (409) before the job succeeded, and AnalysisFeatureMissing
    (409) when its features could not build the view.
    """
    _succeeded(job)
    if not job.audio_analysis_key:
        raise AnalysisFeatureMissing(
            "The audio-analysis view needs these features: "
            + ", ".join(AUDIO_ANALYSIS_FEATURES)
            + ".",
            extra={"required": list(AUDIO_ANALYSIS_FEATURES), "features": job.features},
        )
    return result_part_cached(job, "audio-analysis", lambda: _read(job.audio_analysis_key))


def analysis_audio_analysis_gzip_for_user(*, user: User, public_id: UUID) -> bytes:
    """analysis_audio_analysis_gzip of one of `user`'s jobs; a cached one needs no read of it.

    Raises AnalysisJobNotFound (404) as analysis_job_get_for_user does.
    """
    cached = result_part_cached_get(owner_id=user.pk, public_id=public_id, part="audio-analysis")
    if cached is not None:
        return cached
    job = analysis_job_get_for_user(user=user, public_id=public_id)
    return analysis_audio_analysis_gzip(job=job)


def analysis_audio_analysis_get(*, job: AnalysisJob) -> dict[str, Any]:
    """The Spotify-style view of a succeeded job; 409 when its features could not build it."""
    view: dict[str, Any] = json.loads(gzip.decompress(analysis_audio_analysis_gzip(job=job)))
    return view


# Job statistics across all users: what the ops console (monitoring) measures the pipeline by.
# Plain values cross the boundary; no model instance or queryset leaves this module.


@dataclass(frozen=True)
class AnalysisJobStats:
    """Analysis jobs that finished in a window. Rates are percentages; times seconds.

    Rates and times are None when no job (or no succeeded job, for times) finished.
    """

    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: float | None
    failure_rate: float | None
    mean_seconds: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None
    throughput_per_hour: float


@dataclass(frozen=True)
class AnalysisJobStatsBucket:
    """The jobs that finished in [start, start + bucket)."""

    start: datetime
    stats: AnalysisJobStats


@dataclass(frozen=True)
class AnalysisBacklog:
    """Jobs waiting and running now; `stuck` ones run past their hard time limit."""

    queued: int
    running: int
    oldest_queued_age_seconds: float | None
    stuck_running: int
    stuck_job_ids: tuple[int, ...]


@dataclass(frozen=True)
class AnalysisFailureCount:
    code: str
    count: int


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile of `values` by linear interpolation between closest ranks.

    Matches NumPy's default ("linear") method; None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] * (1 - weight) + ordered[upper] * weight)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _finished_jobs(*, since: datetime, until: datetime) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.filter(
        status__in=AnalysisJob.FINISHED, finished_at__gte=since, finished_at__lt=until
    )


def _stats_from_rows(rows: Sequence[tuple[str, float | None]], hours: float) -> AnalysisJobStats:
    counts = {"succeeded": 0, "failed": 0, "cancelled": 0}
    for status, _seconds in rows:
        counts[status] = counts.get(status, 0) + 1
    total = len(rows)
    # Times are those of completed work: a cancelled or failed job's wall time says little
    # about how long analysing takes.
    times = [seconds for status, seconds in rows if status == "succeeded" and seconds is not None]
    return AnalysisJobStats(
        total=total,
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        success_rate=round(100 * counts["succeeded"] / total, 2) if total else None,
        failure_rate=round(100 * counts["failed"] / total, 2) if total else None,
        mean_seconds=round(sum(times) / len(times), 3) if times else None,
        p50_seconds=_rounded(_percentile(times, 0.50)),
        p95_seconds=_rounded(_percentile(times, 0.95)),
        p99_seconds=_rounded(_percentile(times, 0.99)),
        throughput_per_hour=round(total / hours, 3) if hours > 0 else 0.0,
    )


def analysis_job_stats(*, since: datetime, until: datetime) -> AnalysisJobStats:
    """Analysis jobs of every user that finished in [since, until)."""
    rows = list(
        _finished_jobs(since=since, until=until).values_list("status", "processing_seconds")
    )
    return _stats_from_rows(rows, (until - since).total_seconds() / 3600)


def analysis_job_stats_timeline(
    *, since: datetime, until: datetime, bucket: timedelta
) -> list[AnalysisJobStatsBucket]:
    """Finished jobs bucketed by finish time, oldest first (empty buckets included)."""
    count = max(1, math.ceil((until - since) / bucket))
    grouped: list[list[tuple[str, float | None]]] = [[] for _ in range(count)]
    rows = _finished_jobs(since=since, until=until).values_list(
        "finished_at", "status", "processing_seconds"
    )
    for finished_at, status, seconds in rows:
        if finished_at is None:  # excluded by the range filter; narrows the type
            continue
        index = min(count - 1, int((finished_at - since) / bucket))
        grouped[index].append((status, seconds))
    hours = bucket.total_seconds() / 3600
    return [
        AnalysisJobStatsBucket(
            start=since + index * bucket, stats=_stats_from_rows(bucket_rows, hours)
        )
        for index, bucket_rows in enumerate(grouped)
    ]


def analysis_job_backlog(*, now: datetime) -> AnalysisBacklog:
    """Jobs waiting and running now, and those running past their hard time limit."""
    queued = AnalysisJob.objects.filter(status=AnalysisJob.Status.QUEUED)
    oldest = queued.order_by("queued_at").values_list("queued_at", flat=True).first()
    running = list(
        AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING).values_list(
            "pk", "started_at", "queued_at", "time_limit"
        )
    )
    stuck = tuple(
        pk
        for pk, started_at, queued_at, limit in running
        if now - (started_at or queued_at) > timedelta(seconds=limit)
    )
    return AnalysisBacklog(
        queued=queued.count(),
        running=len(running),
        oldest_queued_age_seconds=round((now - oldest).total_seconds(), 1) if oldest else None,
        stuck_running=len(stuck),
        stuck_job_ids=stuck,
    )


def analysis_job_failures_by_code(*, since: datetime) -> list[AnalysisFailureCount]:
    """Jobs failed since `since`, counted per error code, most frequent first."""
    rows = (
        AnalysisJob.objects.filter(status=AnalysisJob.Status.FAILED, finished_at__gte=since)
        .values("error_code")
        .annotate(count=Count("id"))
        .order_by("-count", "error_code")
    )
    return [
        AnalysisFailureCount(code=row["error_code"] or "unknown", count=row["count"])
        for row in rows
    ]


def analysis_job_list_for_media(*, user: User, media_id: int) -> QuerySet[AnalysisJob]:
    """`user`'s analyses of their file `media_id`, newest first."""
    return analysis_job_list_for_user(user=user).filter(media_id=media_id)


# The engine's progress stages (engine.pipeline) in the words the job page shows.
ANALYSIS_STAGE_WORDS = {
    "fetching": "Fetching the audio",
    "probing": "Reading the audio",
    "decoding": "Reading the audio",
    "rhythm": "Finding the beat",
    "loudness": "Measuring the loudness",
    "key": "Finding the key",
    "structure": "Finding the sections",
}


def analysis_job_progress(*, job: AnalysisJob) -> JobProgress:
    """How far `job` is, with the time left measured on recent analyses or on its own progress."""
    return job_progress_measured(
        job=job,
        jobs=AnalysisJob.objects.all(),
        audio_seconds=job.audio_seconds,
        stage_words=ANALYSIS_STAGE_WORDS,
    )


def analysis_job_progress_for_user(*, user: User, public_id: UUID) -> JobProgress:
    """How far one of `user`'s analyses is; raises AnalysisJobNotFound for anyone else's."""
    return analysis_job_progress(job=analysis_job_get_for_user(user=user, public_id=public_id))
