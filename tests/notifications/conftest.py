from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from analysis.kind import ANALYSIS_KIND
from analysis.models import AnalysisJob
from jobs.lifecycle import job_fail, job_succeed
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory


def running_analysis(owner: User, name: str = "groove.wav") -> AnalysisJob:
    now = timezone.now()
    return AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=owner, display_name=name),
        status=AnalysisJob.Status.RUNNING,
        attempts=1,
        started_at=now - timedelta(seconds=5),
        finished_at=None,
        processing_seconds=None,
        result=None,
    )


def running_separation(owner: User, name: str = "song.flac") -> StemSeparationJob:
    return StemSeparationJob.objects.create(
        owner=owner,
        media=MediaFileFactory.create(owner=owner, display_name=name),
        engine_version="1",
        audio_sha256="0" * 64,
        audio_seconds=6.0,
        soft_time_limit=120,
        time_limit=150,
        status=StemSeparationJob.Status.RUNNING,
        attempts=1,
        started_at=timezone.now() - timedelta(seconds=5),
    )


def end_analysis(job: AnalysisJob, *, failed: bool, capture: Callable[..., Any]) -> None:
    """End `job` through the shared lifecycle, running what waits for the commit."""
    with capture(execute=True):
        if failed:
            job_fail(
                kind=ANALYSIS_KIND,
                job=job,
                code="undecodable_audio",
                message="The file holds no decodable audio.",
            )
        else:
            job_succeed(kind=ANALYSIS_KIND, job=job, fields={"result": {}}, seconds=3.0)


def end_separation(job: StemSeparationJob, *, failed: bool, capture: Callable[..., Any]) -> None:
    with capture(execute=True):
        if failed:
            job_fail(
                kind=STEM_SEPARATION_KIND,
                job=job,
                code="timeout",
                message=STEM_SEPARATION_KIND.failure_messages["timeout"],
            )
        else:
            job_succeed(kind=STEM_SEPARATION_KIND, job=job, fields={"stems": []}, seconds=3.0)
