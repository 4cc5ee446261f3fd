"""How far a job is, in words its owner reads, and how long it has left where that is measured.

The time left comes from one of two measurements, never from a guess: how long recent jobs of
the same kind took per second of audio (the caller's selector measures that), or, without
such a basis or once the job outlasted it, the rate this job has progressed at so far. With
neither (queued, just started, too little progress) there is no estimate.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.utils import timezone

from jobs.models import Job, JobStatus

# How many of the latest jobs of a kind measure the pace of the next one.
PACE_SAMPLE = 20
# Fewer recent jobs than this say too little about the pace of the next one.
MIN_RECENT_JOBS = 3
# Below this much progress, or this long running, this job's own rate says too little.
MIN_PERCENT_FOR_RATE = 5
MIN_SECONDS_FOR_RATE = 2.0

STATUS_WORDS = {
    JobStatus.QUEUED: "Waiting for a worker",
    JobStatus.SUCCEEDED: "Finished",
    JobStatus.FAILED: "Failed",
    JobStatus.CANCELLED: "Cancelled",
}
# The stages the job runner itself reports, for every kind.
RUNNER_STAGE_WORDS = {"storing": "Saving the results", "done": "Finishing"}

TimeLeftBasis = Literal["recent_jobs", "this_job"]


@dataclass(frozen=True)
class JobProgress:
    """A job's progress as its page shows it; `seconds_left` is None without a measured basis."""

    status: str
    finished: bool
    percent: int
    stage: str
    stage_words: str
    seconds_left: int | None
    time_left_basis: TimeLeftBasis | None


def job_pace(samples: Iterable[tuple[float, float]]) -> float | None:
    """The median processing seconds per audio second of (processing, audio) second pairs.

    None when fewer than MIN_RECENT_JOBS pairs have both durations above zero (a reused
    result took no processing and measures nothing).
    """
    paces = [processing / audio for processing, audio in samples if processing > 0 and audio > 0]
    if len(paces) < MIN_RECENT_JOBS:
        return None
    return statistics.median(paces)


def job_progress_describe(
    *,
    job: Job,
    stage_words: Mapping[str, str],
    expected_seconds: float | None,
    now: datetime,
) -> JobProgress:
    """Describe `job` at `now`; `expected_seconds` is how long recent jobs say it takes in all."""
    status = JobStatus(job.status)
    if status == JobStatus.RUNNING:
        words = {**RUNNER_STAGE_WORDS, **stage_words}
        stage_text = words.get(job.stage, "Starting" if not job.stage else job.stage)
    else:
        stage_text = STATUS_WORDS[status]
    seconds_left, basis = _time_left(job, expected_seconds, now)
    return JobProgress(
        status=status.value,
        finished=job.is_finished,
        percent=job.progress,
        stage=job.stage,
        stage_words=stage_text,
        seconds_left=seconds_left,
        time_left_basis=basis,
    )


def _time_left(
    job: Job, expected_seconds: float | None, now: datetime
) -> tuple[int | None, TimeLeftBasis | None]:
    if job.status != JobStatus.RUNNING or job.started_at is None:
        return None, None
    elapsed = max((now - job.started_at).total_seconds(), 0.0)
    if expected_seconds is not None and expected_seconds > elapsed:
        return round(expected_seconds - elapsed), "recent_jobs"
    if job.progress >= MIN_PERCENT_FOR_RATE and elapsed >= MIN_SECONDS_FOR_RATE:
        return round(elapsed * (100 - job.progress) / job.progress), "this_job"
    return None, None


def job_recent_pace(jobs: QuerySet[Any]) -> float | None:
    """Median processing seconds per audio second of the latest of `jobs` that succeeded.

    `jobs` is one kind's job table (it has `audio_seconds`); runs that did no work (reused
    results) are left out. Ordered by id, newest first, so the primary key's index serves it on
    every poll.
    """
    rows = (
        jobs.filter(status=JobStatus.SUCCEEDED, processing_seconds__gt=0, audio_seconds__gt=0)
        .order_by("-pk")
        .values_list("processing_seconds", "audio_seconds")[:PACE_SAMPLE]
    )
    return job_pace((processing or 0.0, audio) for processing, audio in rows)


def job_progress_measured(
    *, job: Job, jobs: QuerySet[Any], audio_seconds: float, stage_words: Mapping[str, str]
) -> JobProgress:
    """How far `job` is, with the time left measured on recent `jobs` or on its own progress."""
    pace = job_recent_pace(jobs) if job.status == JobStatus.RUNNING else None
    return job_progress_describe(
        job=job,
        stage_words=stage_words,
        expected_seconds=None if pace is None else pace * audio_seconds,
        now=timezone.now(),
    )
