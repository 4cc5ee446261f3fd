"""Reads for health, metrics, alerts and the dashboard; monitoring may read every domain."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db.models import Count, QuerySet, Sum

from analysis.models import AnalysisJob
from billing.models import FeatureUsage
from billing.selectors import ReconciliationReport, ledger_reconcile
from monitoring.models import ACTIVE_STATES, Alert, AlertState

Service = Literal["analysis", "stem_separation"]
SERVICES: tuple[Service, ...] = ("analysis", "stem_separation")
STEM_SEPARATION_UNAVAILABLE = "stem separation is not part of this deployment yet"


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` quantile of `values` by linear interpolation between closest ranks.

    Matches NumPy's default ("linear") method; None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] * (1 - weight) + ordered[upper] * weight)


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


def _unavailable(service: Service, reason: str) -> ProcessingStats:
    return ProcessingStats(
        service=service,
        available=False,
        total_operations=0,
        succeeded=0,
        failed=0,
        cancelled=0,
        success_rate=None,
        failure_rate=None,
        mean_seconds=None,
        p50_seconds=None,
        p95_seconds=None,
        p99_seconds=None,
        throughput_per_hour=0.0,
        reason=reason,
    )


def _finished_jobs(*, since: datetime, until: datetime) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.filter(
        status__in=AnalysisJob.FINISHED, finished_at__gte=since, finished_at__lt=until
    )


def _stats_from_rows(
    service: Service, rows: Sequence[tuple[str, float | None]], hours: float
) -> ProcessingStats:
    counts = {"succeeded": 0, "failed": 0, "cancelled": 0}
    for status, _seconds in rows:
        counts[status] = counts.get(status, 0) + 1
    total = len(rows)
    # Times are those of completed work: a cancelled or failed job's wall time says little
    # about how long analysing takes.
    times = [seconds for status, seconds in rows if status == "succeeded" and seconds is not None]
    return ProcessingStats(
        service=service,
        available=True,
        total_operations=total,
        succeeded=counts["succeeded"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        success_rate=round(100 * counts["succeeded"] / total, 2) if total else None,
        failure_rate=round(100 * counts["failed"] / total, 2) if total else None,
        mean_seconds=round(sum(times) / len(times), 3) if times else None,
        p50_seconds=_rounded(percentile(times, 0.50)),
        p95_seconds=_rounded(percentile(times, 0.95)),
        p99_seconds=_rounded(percentile(times, 0.99)),
        throughput_per_hour=round(total / hours, 3) if hours > 0 else 0.0,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def processing_stats(*, service: Service, since: datetime, until: datetime) -> ProcessingStats:
    """Operations of `service` that finished in [since, until)."""
    if service == "stem_separation":
        return _unavailable(service, STEM_SEPARATION_UNAVAILABLE)
    rows = list(
        _finished_jobs(since=since, until=until).values_list("status", "processing_seconds")
    )
    return _stats_from_rows(service, rows, (until - since).total_seconds() / 3600)


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
    count = max(1, math.ceil((until - since) / bucket))
    if service == "stem_separation":
        return []
    grouped: list[list[tuple[str, float | None]]] = [[] for _ in range(count)]
    rows = _finished_jobs(since=since, until=until).values_list(
        "finished_at", "status", "processing_seconds"
    )
    for finished_at, status, seconds in rows:
        if finished_at is None:  # excluded by the range filter; narrows the type
            continue
        index = min(count - 1, int((finished_at - since) / bucket))
        grouped[index].append((status, seconds))
    buckets = []
    for index, bucket_rows in enumerate(grouped):
        stats = _stats_from_rows(service, bucket_rows, bucket.total_seconds() / 3600)
        buckets.append(
            TimelineBucket(
                start=since + index * bucket,
                total_operations=stats.total_operations,
                succeeded=stats.succeeded,
                failed=stats.failed,
                p50_seconds=stats.p50_seconds,
                p95_seconds=stats.p95_seconds,
                mean_seconds=stats.mean_seconds,
            )
        )
    return buckets


@dataclass(frozen=True)
class Backlog:
    queued: int
    running: int
    oldest_queued_age_seconds: float | None
    stuck_running: int
    stuck_job_ids: tuple[int, ...]


def analysis_backlog(*, now: datetime) -> Backlog:
    """Jobs waiting and running now, and those running past their hard time limit."""
    queued = AnalysisJob.objects.filter(status=AnalysisJob.Status.QUEUED)
    oldest = queued.order_by("queued_at").values_list("queued_at", flat=True).first()
    running = list(
        AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING).values_list(
            "pk", "started_at", "queued_at", "time_limit"
        )
    )
    stuck = tuple(
        pk
        for pk, started_at, queued_at, limit in running
        if now - (started_at or queued_at) > timedelta(seconds=limit)
    )
    return Backlog(
        queued=queued.count(),
        running=len(running),
        oldest_queued_age_seconds=round((now - oldest).total_seconds(), 1) if oldest else None,
        stuck_running=len(stuck),
        stuck_job_ids=stuck,
    )


def failures_by_code(*, since: datetime) -> list[dict[str, Any]]:
    """Failed analyses since `since`, counted per error code, most frequent first."""
    rows = (
        AnalysisJob.objects.filter(status=AnalysisJob.Status.FAILED, finished_at__gte=since)
        .values("error_code")
        .annotate(count=Count("id"))
        .order_by("-count", "error_code")
    )
    return [{"code": row["error_code"] or "unknown", "count": row["count"]} for row in rows]


def credits_by_feature(*, since: datetime) -> list[dict[str, Any]]:
    """Credits charged per feature since `since`, from billing's usage records."""
    rows = (
        FeatureUsage.objects.filter(created_at__gte=since)
        .values("feature")
        .annotate(credits=Sum("cost"), uses=Count("id"))
        .order_by("-credits", "feature")
    )
    return [
        {"feature": row["feature"], "credits": int(row["credits"] or 0), "uses": row["uses"]}
        for row in rows
    ]


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
