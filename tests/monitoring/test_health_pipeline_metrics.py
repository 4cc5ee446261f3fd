"""Pipeline figures (rates, percentiles, throughput, timeline, backlog) match known job timings."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from analysis.models import AnalysisJob
from monitoring import health, selectors
from tests.monitoring.factories import AnalysisJobFactory

pytestmark = pytest.mark.django_db

TIMES = [float(seconds) for seconds in range(1, 21)]


@pytest.fixture
def finished_jobs():
    """20 successes taking 1..20 s, 2 failures and 1 cancellation, all in the last hour."""
    now = timezone.now()
    for index, seconds in enumerate(TIMES):
        AnalysisJobFactory.create(
            processing_seconds=seconds, finished_at=now - timedelta(minutes=2 + index)
        )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.FAILED,
        error_code="decode_failed",
        processing_seconds=3.0,
        finished_at=now - timedelta(minutes=5),
    )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.FAILED,
        error_code="time_limit",
        processing_seconds=300.0,
        finished_at=now - timedelta(minutes=6),
    )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.CANCELLED,
        processing_seconds=None,
        finished_at=now - timedelta(minutes=7),
    )
    # Outside the one-hour window: counted by 24 h figures only.
    AnalysisJobFactory.create(processing_seconds=1000.0, finished_at=now - timedelta(hours=3))
    return now


def test_processing_stats_match_numpy_on_known_timings(finished_jobs):
    now = finished_jobs
    stats = selectors.processing_stats(
        service="analysis", since=now - timedelta(hours=1), until=now
    )

    p50, p95, p99 = np.percentile(TIMES, [50, 95, 99])
    assert stats.total_operations == 23
    assert (stats.succeeded, stats.failed, stats.cancelled) == (20, 2, 1)
    assert stats.success_rate == round(100 * 20 / 23, 2)
    assert stats.failure_rate == round(100 * 2 / 23, 2)
    assert stats.mean_seconds == pytest.approx(10.5)
    assert stats.p50_seconds == pytest.approx(p50)
    assert stats.p95_seconds == pytest.approx(p95)
    assert stats.p99_seconds == pytest.approx(p99)
    assert stats.throughput_per_hour == 23.0


def test_throughput_is_per_hour_over_the_range(finished_jobs):
    now = finished_jobs

    stats = selectors.processing_stats(
        service="analysis", since=now - timedelta(hours=24), until=now
    )

    assert stats.total_operations == 24
    assert stats.throughput_per_hour == round(24 / 24, 3)
    assert stats.p99_seconds == pytest.approx(np.percentile([*TIMES, 1000.0], 99))


def test_timeline_puts_each_job_in_the_hour_it_finished(finished_jobs):
    now = finished_jobs

    timeline = selectors.processing_timeline(
        service="analysis", since=now - timedelta(hours=24), until=now, bucket=timedelta(hours=1)
    )

    assert len(timeline) == 24
    assert timeline[-1].total_operations == 23
    assert timeline[-1].p50_seconds == pytest.approx(np.percentile(TIMES, 50))
    assert timeline[-3].total_operations == 1
    assert timeline[-3].mean_seconds == 1000.0
    assert sum(point.total_operations for point in timeline) == 24


def test_analysis_check_reports_backlog_and_jobs_past_their_time_limit():
    now = timezone.now()
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.QUEUED,
        finished_at=None,
        processing_seconds=None,
        queued_at=now - timedelta(seconds=120),
    )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.RUNNING,
        finished_at=None,
        processing_seconds=None,
        started_at=now - timedelta(seconds=400),
        time_limit=300,
    )
    AnalysisJobFactory.create(
        status=AnalysisJob.Status.RUNNING,
        finished_at=None,
        processing_seconds=None,
        started_at=now - timedelta(seconds=100),
        time_limit=300,
    )

    result = health.check_analysis()

    assert not result.healthy
    assert result.metrics["queued"] == 1
    assert result.metrics["running"] == 2
    assert result.metrics["stuck_running"] == 1
    assert 119 <= result.metrics["oldest_queued_age_seconds"] <= 130
    assert result.error == "1 job(s) running past their time limit"


def test_failures_are_counted_by_code(finished_jobs):
    failures = selectors.failures_by_code(since=finished_jobs - timedelta(hours=24))

    assert failures == [{"code": "decode_failed", "count": 1}, {"code": "time_limit", "count": 1}]


def test_no_finished_jobs_gives_empty_figures_not_zeros():
    now = timezone.now()

    stats = selectors.processing_stats(
        service="analysis", since=now - timedelta(hours=1), until=now
    )

    assert stats.total_operations == 0
    assert stats.success_rate is None
    assert stats.p95_seconds is None
