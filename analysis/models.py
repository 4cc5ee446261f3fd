"""Analysis jobs: one run of the engine over one uploaded file, and where its result lives."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from jobs.models import Job, job_constraints


class AnalysisJob(Job):
    """A request to analyse one media file for a set of features.

    Its life cycle (queued -> running -> succeeded | failed | cancelled) is the one of every
    job (jobs.models.Job), run by the `analysis` kind (analysis.kind). The summary result
    lives in `result`; the large per-frame arrays (timeline, waveform) live in storage under
    `arrays_key` as gzip JSON, and the Spotify-style view under `audio_analysis_key`.
    """

    KIND = "analysis"

    # Declared here as well to keep the reverse name its migrations were written with.
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
    engine_version = models.CharField(max_length=32)
    audio_sha256 = models.CharField(max_length=64, db_index=True)
    audio_seconds = models.FloatField(help_text="Duration of the audio as validated on upload.")
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reused_by"
    )
    result = models.JSONField(null=True, blank=True)
    arrays_key = models.CharField(max_length=300, blank=True)
    audio_analysis_key = models.CharField(max_length=300, blank=True)
    # The free analysis of the bundled sample track (analysis.sample) a new account may start
    # once: it is priced at 0, and the constraint below keeps it to one per account.
    is_sample_track = models.BooleanField(default=False)

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
            *job_constraints(prefix="analysis_job"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | Q(result__isnull=False),
                name="analysis_job_succeeded_has_result",
            ),
            # A failed sample analysis (the worker or storage let it down, never the user)
            # does not count: the account may try the sample again, still free.
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(is_sample_track=True) & ~Q(status="failed"),
                name="analysis_job_one_sample_track_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Analysis #{self.pk} ({self.status})"

    @property
    def summary(self) -> dict[str, Any]:
        return self.result or {}
