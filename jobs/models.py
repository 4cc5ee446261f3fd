"""The lifecycle every background job shares, as an abstract model each job kind inherits.

Life cycle: queued -> running -> succeeded | failed | cancelled. Every transition is a
conditional UPDATE on `status` (see jobs.lifecycle and jobs.runner), so two workers or a worker
and the sweep can never both move the same job. A concrete job model adds what its kind works
on and what it produces, and names its kind in `KIND`.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    """One run of a job kind for one owner: its state, its claim, its progress and its limits.

    `attempts` counts claims and names the current one: a worker's writes to a running job are
    conditioned on the attempt it claimed, so a claim taken over after a redelivery cannot be
    written by the worker that lost it.
    """

    Status = JobStatus
    FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
    # The registered kind's name (jobs.kinds), and the prefix of the ledger's reference.
    KIND: ClassVar[str]

    # `user.<app>_jobs`; a concrete model may redeclare `owner` to choose its reverse name.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(app_label)s_jobs"
    )
    # What URLs, the API and integrators know the job by; the integer key stays internal
    # so that ids do not reveal how many jobs exist.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
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
    soft_time_limit = models.PositiveIntegerField(help_text="Seconds, scaled to the duration.")
    time_limit = models.PositiveIntegerField(help_text="Hard limit in seconds.")
    credits_reserved = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.KIND.capitalize()} #{self.pk} ({self.status})"

    @property
    def short_id(self) -> str:
        """The start of the public id: enough for a person to tell their jobs apart on a page."""
        return self.public_id.hex[:8]

    @property
    def job_ref(self) -> str:
        """The reference the credits ledger knows this job by."""
        return f"{self.KIND}:{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


def job_constraints(*, prefix: str) -> list[models.BaseConstraint]:
    """The checks every job table carries, named `<prefix>_...` as its migrations know them."""
    return [
        models.CheckConstraint(
            condition=Q(progress__lte=100), name=f"{prefix}_progress_at_most_100"
        ),
        models.CheckConstraint(
            condition=Q(status__in=list(JobStatus.values)), name=f"{prefix}_status_valid"
        ),
    ]
