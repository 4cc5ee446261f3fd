"""What the site tells a user about their jobs: one notification per ended job, read or not."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notification(models.Model):
    """A job of `owner` finished or failed; `link` is the page that shows what came of it."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    job_kind = models.CharField(max_length=32)
    job_id = models.BigIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    title = models.CharField(max_length=300)
    body = models.CharField(max_length=600)
    # A path on this site (not a full URL), so it follows the host the user reached.
    link = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="notification_owner_recent"),
            # The header counts a user's unread notifications on every page.
            models.Index(
                fields=["owner"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a user wants to hear about their jobs beyond the site; no row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_on_job_end = models.BooleanField(
        default=False, help_text="Mail the user when one of their jobs finishes or fails."
    )

    def __str__(self) -> str:
        return f"Notification preferences of user {self.user_id}"
