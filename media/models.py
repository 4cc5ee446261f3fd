"""Uploaded audio and the log of refused uploads."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class MediaFile(models.Model):
    """One upload: private audio under a random storage key, or the record of its refusal.

    Rejected uploads keep their row (with `rejection_code` and a readable message) so the owner
    can see why a file was refused; their bytes are never written to storage. Deleting a file
    removes the stored object (and its preview) and keeps the row, so analyses referring to it
    stay readable.
    """

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"
        DELETED = "deleted", "Deleted"

    class PreviewStatus(models.TextChoices):
        # Uploads from before previews were made on upload, and refused uploads.
        NONE = "none", "Not requested"
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Could not be made"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_files"
    )
    # What URLs, the API and integrators know the upload by; the integer key stays internal
    # so that ids do not reveal how many uploads exist.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=255, blank=True)
    storage_key = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    container = models.CharField(max_length=16, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bit_rate = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # The browser-playable copy made by the worker after the upload (media.preview); empty
    # until it exists, and for uploads whose preview could not be made.
    preview_key = models.CharField(max_length=255, blank=True)
    preview_content_type = models.CharField(max_length=100, blank=True)
    preview_status = models.CharField(
        max_length=16, choices=PreviewStatus.choices, default=PreviewStatus.NONE
    )
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    rejection_code = models.CharField(max_length=32, blank=True, db_index=True)
    rejection_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["owner", "status", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["storage_key"],
                condition=~models.Q(storage_key=""),
                name="media_file_storage_key_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(storage_key=""),
                name="media_file_ready_has_storage_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(preview_status="ready") | ~models.Q(preview_key=""),
                name="media_file_ready_preview_has_key",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"upload {self.public_id}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class UploadRejection(models.Model):
    """Staff log of refused uploads: who, why, how big and which bytes (by hash)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="upload_rejections",
    )
    code = models.CharField(max_length=32, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.code} ({self.created_at:%Y-%m-%d %H:%M})"
