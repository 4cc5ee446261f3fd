"""Reads of stem separations, each scoped to the user asking, and the ops console's figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from accounts.models import User
from analysis.models import AnalysisJob
from engine.stems import STEM_NAMES
from jobs.progress import JobProgress, job_progress_measured
from media.models import MediaFile
from stems.errors import StemJobNotFound, StemNotFound, StemsNotAvailable
from stems.models import StemSeparationJob


def stem_separation_job_list_for_user(*, user: User) -> QuerySet[StemSeparationJob]:
    return StemSeparationJob.objects.filter(owner=user).select_related("media")


def stem_separation_job_list_for_media(*, user: User, media_id: int) -> QuerySet[StemSeparationJob]:
    """`user`'s separations of one of their files, newest first."""
    return stem_separation_job_list_for_user(user=user).filter(media_id=media_id)


def stem_separation_job_get_for_user(*, user: User, public_id: UUID) -> StemSeparationJob:
    """One of `user`'s separations; another user's is indistinguishable from a missing one."""
    job = stem_separation_job_list_for_user(user=user).filter(public_id=public_id).first()
    if job is None:
        raise StemJobNotFound("No such stem separation.")
    return job


# The stem engine's progress stages (engine.stems) in the words the job page shows.
STEM_STAGE_WORDS = {
    "fetching": "Fetching the audio",
    "probing": "Reading the audio",
    "separating": "Separating the instruments",
    "encoding": "Writing the stems",
    "separated": "Writing the stems",
}


def stem_separation_job_progress(*, job: StemSeparationJob) -> JobProgress:
    """How far `job` is, its time left measured on recent separations or on its own progress."""
    return job_progress_measured(
        job=job,
        jobs=StemSeparationJob.objects.all(),
        audio_seconds=job.audio_seconds,
        stage_words=STEM_STAGE_WORDS,
    )


def stem_separation_job_progress_for_user(*, user: User, public_id: UUID) -> JobProgress:
    """How far one of `user`'s separations is; raises StemJobNotFound for anyone else's."""
    return stem_separation_job_progress(
        job=stem_separation_job_get_for_user(user=user, public_id=public_id)
    )


def stems_available(job: StemSeparationJob) -> bool:
    """Whether the job's stems may be read: it succeeded and its media was not deleted."""
    return (
        job.status == StemSeparationJob.Status.SUCCEEDED
        and job.files_deleted_at is None
        and job.media.status != MediaFile.Status.DELETED
    )


def stem_get_for_user(
    *, user: User, public_id: UUID, stem: str
) -> tuple[StemSeparationJob, dict[str, Any]]:
    """One stem of one of `user`'s separations, as its job and its stored entry.

    Raises StemJobNotFound (404), StemNotFound (404) for a name that is no stem, and
    StemsNotAvailable (409) before success or once the media (and so the stems) was deleted.
    """
    job = stem_separation_job_get_for_user(user=user, public_id=public_id)
    if stem not in STEM_NAMES:
        raise StemNotFound(f"There is no stem {stem!r}.", extra={"stems": list(STEM_NAMES)})
    if not stems_available(job):
        raise StemsNotAvailable(
            "The stems of this separation are not available.", extra={"status": job.status}
        )
    entry = next(item for item in job.stem_list if item["name"] == stem)
    return job, entry


@dataclass(frozen=True)
class StemAnalysis:
    """The newest finished analysis of one stem of an upload."""

    stem: str
    analysis_public_id: UUID


def stem_analyses_for_media(*, user: User, media_id: int) -> list[StemAnalysis]:
    """`user`'s succeeded analyses of the stems of their upload `media_id`, one per stem (the
    newest), in the engine's stem order; empty when no stem of it was analysed.

    Stems are looked for in every separation of the upload whose stems are still available.
    """
    asked: dict[str, list[int]] = {}
    for job in stem_separation_job_list_for_user(user=user).filter(media_id=media_id):
        if not stems_available(job):
            continue
        for entry in job.stem_list:
            asked.setdefault(entry["name"], []).extend(entry.get("analyses", []))
    if not asked:
        return []
    succeeded = {
        pk: (finished_at, public_id)
        for pk, finished_at, public_id in AnalysisJob.objects.filter(
            owner=user,
            status=AnalysisJob.Status.SUCCEEDED,
            pk__in=[pk for ids in asked.values() for pk in ids],
        ).values_list("pk", "finished_at", "public_id")
    }
    found = []
    for stem in STEM_NAMES:
        done = [pk for pk in asked.get(stem, []) if pk in succeeded]
        if done:
            newest = max(done, key=lambda pk: (succeeded[pk][0], pk))
            found.append(StemAnalysis(stem=stem, analysis_public_id=succeeded[newest][1]))
    return found


def stem_jobs_with_files_to_delete() -> list[int]:
    """Jobs whose stored stems must go: their media was deleted, or they did not succeed."""
    return list(
        StemSeparationJob.objects.filter(files_deleted_at__isnull=True)
        .filter(
            Q(media__status=MediaFile.Status.DELETED)
            | Q(status__in=(StemSeparationJob.Status.FAILED, StemSeparationJob.Status.CANCELLED))
        )
        .values_list("pk", flat=True)
    )


# Job statistics across all users: what the ops console (monitoring) measures the service by.
# Plain values cross the boundary; no model instance or queryset leaves this module.


@dataclass(frozen=True)
class StemSeparationStats:
    """Separations that finished in a window. Rates are percentages; times seconds."""

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
class StemSeparationStatsBucket:
    start: datetime
    stats: StemSeparationStats


@dataclass(frozen=True)
class StemSeparationBacklog:
    """Jobs waiting and running now; `stuck` ones run past their hard time limit."""

    queued: int
    running: int
    oldest_queued_age_seconds: float | None
    stuck_running: int


def _percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (NumPy's default) of sorted values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    weight = position - lower
    return round(float(ordered[lower] * (1 - weight) + ordered[upper] * weight), 3)


def _stats(rows: Sequence[tuple[str, float | None]], hours: float) -> StemSeparationStats:
    counts = {status: 0 for status in ("succeeded", "failed", "cancelled")}
    for status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    total = len(rows)
    times = sorted(s for status, s in rows if status == "succeeded" and s is not None)
    return StemSeparationStats(
        total=total,
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        success_rate=round(100 * counts["succeeded"] / total, 2) if total else None,
        failure_rate=round(100 * counts["failed"] / total, 2) if total else None,
        mean_seconds=round(sum(times) / len(times), 3) if times else None,
        p50_seconds=_percentile(times, 0.50),
        p95_seconds=_percentile(times, 0.95),
        p99_seconds=_percentile(times, 0.99),
        throughput_per_hour=round(total / hours, 3) if hours > 0 else 0.0,
    )


def _finished(*, since: datetime, until: datetime) -> QuerySet[StemSeparationJob]:
    return StemSeparationJob.objects.filter(
        status__in=StemSeparationJob.FINISHED, finished_at__gte=since, finished_at__lt=until
    )


def stem_separation_job_stats(*, since: datetime, until: datetime) -> StemSeparationStats:
    """Separations of every user that finished in [since, until)."""
    rows = list(_finished(since=since, until=until).values_list("status", "processing_seconds"))
    return _stats(rows, (until - since).total_seconds() / 3600)


def stem_separation_job_stats_timeline(
    *, since: datetime, until: datetime, bucket: timedelta
) -> list[StemSeparationStatsBucket]:
    """Finished separations bucketed by finish time, oldest first (empty buckets included)."""
    count = max(1, math.ceil((until - since) / bucket))
    grouped: list[list[tuple[str, float | None]]] = [[] for _ in range(count)]
    rows = _finished(since=since, until=until).values_list(
        "finished_at", "status", "processing_seconds"
    )
    for finished_at, status, seconds in rows:
        if finished_at is not None:
            grouped[min(count - 1, int((finished_at - since) / bucket))].append((status, seconds))
    hours = bucket.total_seconds() / 3600
    return [
        StemSeparationStatsBucket(start=since + index * bucket, stats=_stats(part, hours))
        for index, part in enumerate(grouped)
    ]


def stem_separation_job_backlog(*, now: datetime) -> StemSeparationBacklog:
    """Separations waiting and running now, and those running past their hard time limit."""
    queued = StemSeparationJob.objects.filter(status=StemSeparationJob.Status.QUEUED)
    oldest = queued.order_by("queued_at").values_list("queued_at", flat=True).first()
    running = list(
        StemSeparationJob.objects.filter(status=StemSeparationJob.Status.RUNNING).values_list(
            "started_at", "queued_at", "time_limit"
        )
    )
    stuck = sum(
        1
        for started_at, queued_at, limit in running
        if now - (started_at or queued_at) > timedelta(seconds=limit)
    )
    return StemSeparationBacklog(
        queued=queued.count(),
        running=len(running),
        oldest_queued_age_seconds=round((now - oldest).total_seconds(), 1) if oldest else None,
        stuck_running=stuck,
    )
