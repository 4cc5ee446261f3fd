# factory_boy declarations (Sequence, SubFactory, ...) are untyped functions.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from factory.declarations import (
    LazyAttribute,
    LazyFunction,
    SelfAttribute,
    Sequence,
    SubFactory,
)
from factory.django import DjangoModelFactory

from analysis.models import AnalysisJob
from media.models import MediaFile
from monitoring.models import AlertRule
from tests.factories import UserFactory


class AlertRuleFactory(DjangoModelFactory[AlertRule]):
    class Meta:
        model = AlertRule

    name = Sequence(lambda n: f"rule {n}")
    metric = "queue_depth"
    comparison = "gt"
    threshold = 2
    window_seconds = 900
    for_seconds = 0
    severity = "critical"
    enabled = True


class MediaFileFactory(DjangoModelFactory[MediaFile]):
    class Meta:
        model = MediaFile

    owner = SubFactory(UserFactory)
    display_name = "tone.wav"
    storage_key = Sequence(lambda n: f"media/monitoring-test-{n}.wav")
    size_bytes = 1000
    duration_seconds = 60.0
    status = MediaFile.Status.READY


class AnalysisJobFactory(DjangoModelFactory[AnalysisJob]):
    """A job that finished `processing_seconds` after it started; pass `finished_at`."""

    class Meta:
        model = AnalysisJob

    media = SubFactory(MediaFileFactory)
    owner = SelfAttribute("media.owner")
    features = ["tempo"]
    features_key = "tempo"
    status = AnalysisJob.Status.SUCCEEDED
    engine_version = "test"
    audio_sha256 = Sequence(lambda n: f"{n:064d}")
    audio_seconds = 60.0
    soft_time_limit = 240
    time_limit = 300
    processing_seconds = 10.0
    finished_at = LazyFunction(timezone.now)
    started_at = LazyAttribute(
        lambda job: (
            job.finished_at - timedelta(seconds=job.processing_seconds or 0)
            if job.finished_at
            else None
        )
    )
    queued_at = LazyAttribute(lambda job: (job.started_at or timezone.now()) - timedelta(seconds=1))
    result = LazyAttribute(
        lambda job: {"tempo": 120.0} if job.status == AnalysisJob.Status.SUCCEEDED else None
    )
