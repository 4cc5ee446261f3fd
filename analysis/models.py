"""Analysis jobs: one run of the engine over one uploaded file, and where its result lives."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AnalysisJob(models.Model):
    """A request to analyse one media file for a set of features.

    Life cycle: queued -> running -> succeeded | failed | cancelled. Every transition is a
    conditional UPDATE on `status` (see analysis.services), so two workers or a worker and the
    sweep can never both move the same job. The summary result lives in `result`; the large
    per-frame arrays (timeline, waveform) live in storage under `arrays_key` as gzip JSON, and
    the Spotify-style view under `audio_analysis_key`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analysis_jobs"
    )
    media = models.ForeignKey(
        "media.MediaFile", on_delete=models.CASCADE, related_name="analysis_jobs"
    )
    features = models.JSONField(help_text="Requested features, in the engine's canonical order.")
    # The same features as one sorted, comma-joined string: what result reuse and the admin's
    # feature filter look up by, which a JSON list cannot be indexed for on every database.
    features_key = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=32, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True, db_index=True)
    error_message = models.CharField(max_length=500, blank=True)
    queued_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set once the broker accepted the task; a job left unpublished (broker down at commit
    # time) is published again by the sweep instead of waiting forever.
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    processing_seconds = models.FloatField(null=True, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    engine_version = models.CharField(max_length=32)
    audio_sha256 = models.CharField(max_length=64, db_index=True)
    audio_seconds = models.FloatField(help_text="Duration of the audio as validated on upload.")
    soft_time_limit = models.PositiveIntegerField(help_text="Seconds, scaled to the duration.")
    time_limit = models.PositiveIntegerField(help_text="Hard limit in seconds.")
    credits_reserved = models.PositiveIntegerField(default=0)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reused_by"
    )
    result = models.JSONField(null=True, blank=True)
    arrays_key = models.CharField(max_length=300, blank=True)
    audio_analysis_key = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-queued_at", "-id")
        indexes = [
            models.Index(
                fields=["audio_sha256", "engine_version", "features_key", "status"],
                name="analysis_job_reuse",
            ),
            models.Index(fields=["owner", "-queued_at"], name="analysis_job_owner_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="analysis_job_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]),
                name="analysis_job_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(result__isnull=False),
                name="analysis_job_succeeded_has_result",
            ),
        ]

    def __str__(self) -> str:
        return f"Analysis #{self.pk} ({self.status})"

    @property
    def job_ref(self) -> str:
        """The reference the credits ledger knows this job by."""
        return f"analysis:{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def summary(self) -> dict[str, Any]:
        return self.result or {}
