"""Stem separation jobs: one run of the stem engine over one upload, and where its stems live."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from jobs.models import Job, job_constraints


class StemSeparationJob(Job):
    """A request to split one media file into vocals, drums, bass and other.

    Its life cycle is the one of every job (jobs.models.Job), run by the `stem_separation`
    kind (stems.kind). On success `stems` lists the four stored FLAC files, in the engine's
    order, as {name, key, size_bytes, peak, source, method}, and `analyses`, the ids of the
    analysis jobs "analyse this stem" started, oldest first. The files are private: they are
    read only through the owner's selectors, and removed (`files_deleted_at`) once the media
    is deleted, or when a failed run left some behind.
    """

    KIND = "stem_separation"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stem_separation_jobs"
    )
    media = models.ForeignKey(
        "media.MediaFile", on_delete=models.CASCADE, related_name="stem_separation_jobs"
    )
    engine_version = models.CharField(max_length=32)
    audio_sha256 = models.CharField(max_length=64)
    audio_seconds = models.FloatField(help_text="Duration of the audio as validated on upload.")
    stems = models.JSONField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = [
            models.Index(fields=["owner", "-queued_at"], name="stem_job_owner_recent"),
            models.Index(fields=["status", "files_deleted_at"], name="stem_job_files"),
        ]
        constraints = [
            *job_constraints(prefix="stem_job"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(stems__isnull=False),
                name="stem_job_succeeded_has_stems",
            ),
        ]

    def __str__(self) -> str:
        return f"Stem separation #{self.pk} ({self.status})"

    @property
    def stem_list(self) -> list[dict[str, Any]]:
        return list(self.stems or [])
