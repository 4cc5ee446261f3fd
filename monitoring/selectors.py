"""Reads for health, metrics, alerts and the dashboard.

Monitoring reads its own alerts here, and the domains only through their selectors, which
hand over frozen dataclasses: no other app's model is queried from this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db.models import QuerySet

from analysis.selectors import (
    AnalysisBacklog,
    AnalysisJobStats,
    AnalysisJobStatsBucket,
    analysis_job_backlog,
    analysis_job_failures_by_code,
    analysis_job_stats,
    analysis_job_stats_timeline,
)
from billing.selectors import ReconciliationReport, ledger_reconcile, usage_credits_by_feature
from monitoring.models import ACTIVE_STATES, Alert, AlertState
from stems.selectors import (
    StemSeparationBacklog,
    StemSeparationStats,
    StemSeparationStatsBucket,
    stem_separation_job_backlog,
    stem_separation_job_stats,
    stem_separation_job_stats_timeline,
)

Service = Literal["analysis", "stem_separation"]
SERVICES: tuple[Service, ...] = ("analysis", "stem_separation")


@dataclass(frozen=True)
class ProcessingStats:
    """Finished operations of one service in a window. Rates are percentages; times seconds.

    `available` is False (and every figure empty) for a service this deployment lacks.
    """

    service: Service
    available: bool
    total_operations: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: float | None
    failure_rate: float | None
    mean_seconds: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None
    throughput_per_hour: float
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_job_stats(
    service: Service, stats: AnalysisJobStats | StemSeparationStats
) -> ProcessingStats:
    return ProcessingStats(
        service=service,
        available=True,
        total_operations=stats.total,
        succeeded=stats.succeeded,
        failed=stats.failed,
        cancelled=stats.cancelled,
        success_rate=stats.success_rate,
        failure_rate=stats.failure_rate,
        mean_seconds=stats.mean_seconds,
        p50_seconds=stats.p50_seconds,
        p95_seconds=stats.p95_seconds,
        p99_seconds=stats.p99_seconds,
        throughput_per_hour=stats.throughput_per_hour,
    )


def processing_stats(*, service: Service, since: datetime, until: datetime) -> ProcessingStats:
    """Operations of `service` that finished in [since, until)."""
    if service == "stem_separation":
        return _from_job_stats(service, stem_separation_job_stats(since=since, until=until))
    return _from_job_stats(service, analysis_job_stats(since=since, until=until))


@dataclass(frozen=True)
class TimelineBucket:
    start: datetime
    total_operations: int
    succeeded: int
    failed: int
    p50_seconds: float | None
    p95_seconds: float | None
    mean_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data


def processing_timeline(
    *, service: Service, since: datetime, until: datetime, bucket: timedelta
) -> list[TimelineBucket]:
    """Finished operations bucketed by finish time, oldest first (empty buckets included)."""
    points: Sequence[AnalysisJobStatsBucket | StemSeparationStatsBucket] = (
        stem_separation_job_stats_timeline(since=since, until=until, bucket=bucket)
        if service == "stem_separation"
        else analysis_job_stats_timeline(since=since, until=until, bucket=bucket)
    )
    return [
        TimelineBucket(
            start=point.start,
            total_operations=point.stats.total,
            succeeded=point.stats.succeeded,
            failed=point.stats.failed,
            p50_seconds=point.stats.p50_seconds,
            p95_seconds=point.stats.p95_seconds,
            mean_seconds=point.stats.mean_seconds,
        )
        for point in points
    ]


def analysis_backlog(*, now: datetime) -> AnalysisBacklog:
    """Jobs waiting and running now, and those running past their hard time limit."""
    return analysis_job_backlog(now=now)


def stem_separation_backlog(*, now: datetime) -> StemSeparationBacklog:
    """Separations waiting and running now, and those running past their hard time limit."""
    return stem_separation_job_backlog(now=now)


def failures_by_code(*, since: datetime) -> list[dict[str, Any]]:
    """Failed analyses since `since`, counted per error code, most frequent first."""
    return [asdict(row) for row in analysis_job_failures_by_code(since=since)]


def credits_by_feature(*, since: datetime) -> list[dict[str, Any]]:
    """Credits charged per feature since `since`, from billing's usage records."""
    return [asdict(row) for row in usage_credits_by_feature(since=since)]


def ledger_reconciliation() -> ReconciliationReport:
    """Billing's reconciliation of every account against the transfers that explain it."""
    return ledger_reconcile()


def alerts_list(*, state: str | None = None) -> QuerySet[Alert]:
    """Alerts for staff, newest first; `state` filters (pending alerts are never listed)."""
    alerts = Alert.objects.select_related("rule").exclude(state=AlertState.PENDING)
    if state:
        alerts = alerts.filter(state=state)
    return alerts.order_by("-pending_since", "-pk")


def alerts_active() -> QuerySet[Alert]:
    return Alert.objects.select_related("rule").filter(state__in=ACTIVE_STATES)


TimeRange = Literal["1h", "24h", "7d", "30d"]
# Each range with the bucket size of its timeline: 12 to 30 points, enough to draw a trend.
TIME_RANGES: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}


def processing_metrics(
    *, time_range: str, services: Sequence[Service], now: datetime
) -> dict[str, Any]:
    """Per service: totals, rates, percentiles, throughput and a bucketed timeline."""
    span, bucket = TIME_RANGES[time_range]
    since = now - span
    report: dict[str, Any] = {}
    for service in services:
        stats = processing_stats(service=service, since=since, until=now)
        report[service] = {
            **stats.as_dict(),
            "bucket_seconds": int(bucket.total_seconds()),
            "timeline": [
                point.as_dict()
                for point in processing_timeline(
                    service=service, since=since, until=now, bucket=bucket
                )
            ],
        }
    return {
        "time_range": time_range,
        "since": since.isoformat(),
        "until": now.isoformat(),
        "services": report,
    }
