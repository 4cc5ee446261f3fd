"""Stem separation as the ops console sees it: health figures, alerts and product events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from jobs.runner import job_run
from monitoring import health, services
from monitoring.models import Alert, AlertRule
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from stems.services import stem_separation_job_create
from tests.analysis.factories import MediaFileFactory
from tests.monitoring.factories import AlertRuleFactory
from tests.stems.conftest import backing_media, give_credits

pytestmark = pytest.mark.django_db


def _finished(user: User, status: str, seconds: float, **fields: Any) -> StemSeparationJob:
    now = timezone.now()
    return StemSeparationJob.objects.create(
        owner=user,
        media=MediaFileFactory.create(owner=user),
        engine_version="1",
        audio_sha256="0" * 64,
        audio_seconds=60.0,
        soft_time_limit=120,
        time_limit=150,
        status=status,
        started_at=now - timedelta(seconds=seconds),
        finished_at=now,
        processing_seconds=seconds,
        stems=[] if status == "succeeded" else None,
        **fields,
    )


def test_the_health_check_reports_finished_and_stuck_separations(user: User) -> None:
    _finished(user, "succeeded", 10.0)
    _finished(user, "failed", 4.0, error_code="engine_crash")
    stuck = _finished(user, "running", 0.0)
    StemSeparationJob.objects.filter(pk=stuck.pk).update(
        started_at=timezone.now() - timedelta(hours=1), finished_at=None
    )
    result = health.check_stem_separation()
    assert result.metrics["available"] is True
    assert (result.metrics["succeeded"], result.metrics["failed"]) == (1, 1)
    assert result.metrics["failure_rate"] == 50.0
    assert result.metrics["mean_seconds"] == 10.0
    assert result.metrics["stuck_running"] == 1
    assert not result.healthy


def test_a_stem_separation_failure_rate_rule_fires(user: User) -> None:
    AlertRule.objects.update(enabled=False)
    AlertRuleFactory.create(
        metric="stem_separation_failure_rate", comparison="gt", threshold=20, severity="high"
    )
    _finished(user, "succeeded", 10.0)
    _finished(user, "failed", 4.0, error_code="undecodable_audio")
    services.alerts_evaluate(now=timezone.now())
    alert = Alert.objects.get()
    assert alert.service == "stem_separation"
    assert alert.value == 50.0


def test_started_and_completed_events_name_the_job(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "telemetry.analytics.capture",
        lambda event, *, user_id, properties: sent.append((event, properties)),
    )
    give_credits(user, 10)
    job = stem_separation_job_create(user=user, media_public_id=backing_media(user).public_id)
    job_run(kind=STEM_SEPARATION_KIND, job_id=job.pk, worker_host="w")
    events = [(event, props["job_id"]) for event, props in sent if "stem_" in event]
    assert events == [
        ("stem_separation_started", job.pk),
        ("stem_separation_completed", job.pk),
    ]
