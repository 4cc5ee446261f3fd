"""Every state change of a stem separation, through the shared job lifecycle (`jobs/`).

What is the stems domain's own is decided here: which upload, how long its audio may be and
how long its separation may take, where its files go, and turning one stem into an upload
of the owner's that is analysed like any other.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create
from engine.stems import STEMS_VERSION
from jobs.lifecycle import job_cancel, job_create
from jobs.sweep import job_kind_sweep
from media.errors import StorageUnavailable
from media.selectors import media_get_ready_for_user
from media.services import media_upload
from media.storage import STORAGE_ERRORS, storage_download_to, storage_is_s3
from media.upload import ReceivedUpload
from stems.errors import AudioTooLong, StemJobFinished
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from stems.results import stem_files_delete
from stems.selectors import (
    stem_get_for_user,
    stem_jobs_with_files_to_delete,
    stem_separation_job_get_for_user,
)

logger = logging.getLogger(__name__)

_COPY_CHUNK_BYTES = 1 << 20


def stem_separation_time_limits(*, audio_seconds: float) -> tuple[int, int]:
    """Soft and hard time limits (seconds) for separating `audio_seconds` of audio."""
    soft = math.ceil(
        settings.STEMS_TIME_LIMIT_BASE_SECONDS
        + settings.STEMS_TIME_LIMIT_PER_AUDIO_SECOND * max(audio_seconds, 0.0)
    )
    return soft, soft + settings.ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS


def stem_separation_job_create(*, user: User, media_public_id: UUID) -> StemSeparationJob:
    """Create a separation of one of `user`'s media files and queue it, reserving its credits.

    Raises the media selectors' 404 and 409, AudioTooLong (422) and billing's
    InsufficientCredits (402), in which case no job exists.
    """
    media = media_get_ready_for_user(user=user, public_id=media_public_id)
    audio_seconds = float(media.duration_seconds or 0.0)
    if audio_seconds > settings.STEMS_MAX_AUDIO_SECONDS:
        raise AudioTooLong(
            f"Files longer than {settings.STEMS_MAX_AUDIO_SECONDS} seconds cannot be separated.",
            extra={"max_audio_seconds": settings.STEMS_MAX_AUDIO_SECONDS},
        )
    soft, hard = stem_separation_time_limits(audio_seconds=audio_seconds)
    return job_create(
        kind=STEM_SEPARATION_KIND,
        owner=user,
        fields={
            "media": media,
            "engine_version": STEMS_VERSION,
            "audio_sha256": media.sha256,
            "audio_seconds": audio_seconds,
            "soft_time_limit": soft,
            "time_limit": hard,
        },
    )


def stem_separation_job_cancel(*, user: User, public_id: UUID) -> StemSeparationJob:
    """Cancel one of `user`'s queued or running separations and release its credits.

    Raises the selector's 404 and StemJobFinished (409) when the job already ended.
    """
    job = stem_separation_job_get_for_user(user=user, public_id=public_id)
    if not job_cancel(kind=STEM_SEPARATION_KIND, job=job):
        job.refresh_from_db()
        raise StemJobFinished(
            f"This separation already ended ({job.status}).", extra={"status": job.status}
        )
    job.refresh_from_db()
    return job


def stem_analysis_start(*, user: User, public_id: UUID, stem: str) -> AnalysisJob:
    """Analyse one stem of `user`'s: it becomes an upload of theirs, then an analysis job.

    The upload goes through media's own checks (size, format, quota) like any other; the
    analysis is billed like any other. Raises the selectors' 404 and 409, media's refusals
    and analysis's (InsufficientCredits, 402).
    """
    job, entry = stem_get_for_user(user=user, public_id=public_id, stem=stem)
    copy = TemporaryUploadedFile(name="upload.bin", content_type="audio/flac", size=0, charset=None)
    try:
        digest = hashlib.sha256()
        _stored_copy(key=entry["key"], target=copy)
        copy.seek(0)
        while chunk := copy.read(_COPY_CHUNK_BYTES):
            digest.update(chunk)
        size = copy.tell()
        base = job.media.display_name.rsplit(".", 1)[0]
        media = media_upload(
            user=user,
            upload=ReceivedUpload(
                file=copy,
                original_name=f"{base} ({stem}).flac",
                size_bytes=size,
                sha256=digest.hexdigest(),
                too_large=size > settings.PHONOGLYPH_MAX_UPLOAD_BYTES,
            ),
        )
    finally:
        copy.close()
    analysis = analysis_job_create(user=user, media_public_id=media.public_id, features=None)
    _stem_analysis_record(job_id=job.pk, stem=stem, analysis_job_id=analysis.pk)
    return analysis


def _stem_analysis_record(*, job_id: int, stem: str, analysis_job_id: int) -> None:
    """Remember that `analysis_job_id` analyses `stem` of separation `job_id`, so that pages
    of the separated upload can follow that stem's analysis."""
    with transaction.atomic():
        # Row lock: two stems analysed at once must not overwrite each other's entry.
        job = StemSeparationJob.objects.select_for_update().get(pk=job_id)
        stems = job.stem_list
        for entry in stems:
            if entry["name"] == stem:
                entry["analyses"] = [*entry.get("analyses", []), analysis_job_id]
        job.stems = stems
        job.save(update_fields=["stems"])


def _stored_copy(*, key: str, target: TemporaryUploadedFile) -> None:
    """Copy a stored object into `target`, chunk by chunk, from disk or S3."""
    if storage_is_s3():
        storage_download_to(key=key, fileobj=target)
        return
    try:
        with default_storage.open(key, "rb") as source:
            while chunk := source.read(_COPY_CHUNK_BYTES):
                target.write(chunk)
    except STORAGE_ERRORS as error:
        raise StorageUnavailable("The stem could not be read.") from error


def stem_files_purge(*, now: datetime | None = None) -> int:
    """Remove the stored stems of deleted media and whatever failed runs left; return how many
    jobs were cleared.

    A job is marked cleared only once its objects are gone, so a storage outage is retried at
    the next sweep.
    """
    cleared = 0
    for job_id in stem_jobs_with_files_to_delete():
        try:
            stem_files_delete(job_id=job_id)
        except StorageUnavailable:
            logger.warning("stems of job %s could not be deleted; the next sweep retries", job_id)
            continue
        # Only rows still uncleared: a concurrent sweep may have got there first.
        cleared += StemSeparationJob.objects.filter(
            pk=job_id, files_deleted_at__isnull=True
        ).update(files_deleted_at=now or timezone.now())
    return cleared


def stem_separation_jobs_sweep() -> dict[str, int]:
    """Fail separations whose worker vanished, publish unpublished ones, release stranded
    credits (jobs.sweep), then remove stem files that must not outlive their job or media.
    """
    report = job_kind_sweep(kind=STEM_SEPARATION_KIND)
    purged = stem_files_purge()
    return {
        "timed_out": report.timed_out,
        "crashed": report.crashed,
        "republished": report.republished,
        "reservations_released": report.reservations_released,
        "files_purged": purged,
    }
