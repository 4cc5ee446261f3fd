"""Reads of analysis jobs, each scoped to the user asking, and of their stored arrays."""

from __future__ import annotations

import gzip
import json
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from accounts.models import User
from analysis.errors import AnalysisFeatureMissing, AnalysisJobNotFound, AnalysisNotSucceeded
from analysis.models import AnalysisJob

# What the Spotify-style view is built from (engine.spotify.to_audio_analysis).
AUDIO_ANALYSIS_FEATURES = ("tempo", "key", "loudness", "onsets", "sections", "timeline")


def analysis_job_list_for_user(*, user: User) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.filter(owner=user).select_related("media")


def analysis_job_get_for_user(*, user: User, job_id: int) -> AnalysisJob:
    """One of `user`'s jobs; another user's job is indistinguishable from a missing one (404)."""
    job = analysis_job_list_for_user(user=user).filter(pk=job_id).first()
    if job is None:
        raise AnalysisJobNotFound("No such analysis.")
    return job


def analysis_job_reusable(
    *, sha256: str, engine_version: str, features_key: str
) -> AnalysisJob | None:
    """A succeeded job over the same audio content, engine version and features, if any."""
    return (
        AnalysisJob.objects.filter(
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
    return _read(job.arrays_key)


def analysis_arrays_get(*, job: AnalysisJob) -> dict[str, Any]:
    arrays: dict[str, Any] = json.loads(gzip.decompress(analysis_arrays_gzip(job=job)))
    return arrays


def analysis_audio_analysis_get(*, job: AnalysisJob) -> dict[str, Any]:
    """The Spotify-style view of a succeeded job; 409 when its features could not build it."""
    _succeeded(job)
    if not job.audio_analysis_key:
        raise AnalysisFeatureMissing(
            "The audio-analysis view needs these features: "
            + ", ".join(AUDIO_ANALYSIS_FEATURES)
            + ".",
            extra={"required": list(AUDIO_ANALYSIS_FEATURES), "features": job.features},
        )
    view: dict[str, Any] = json.loads(gzip.decompress(_read(job.audio_analysis_key)))
    return view


def analysis_job_list_for_media(*, user: User, media_id: int) -> QuerySet[AnalysisJob]:
    """`user`'s analyses of their file `media_id`, newest first."""
    return analysis_job_list_for_user(user=user).filter(media_id=media_id)
