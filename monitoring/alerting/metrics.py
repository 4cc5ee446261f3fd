"""The values alert rules compare: one source per evaluation, each check run at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitoring import health, selectors
from monitoring.health import CheckResult
from monitoring.models import AlertRule, Metric

METRIC_SERVICES: dict[str, str] = {  # keyed by Metric values
    Metric.QUEUE_DEPTH: "broker",
    Metric.ANALYSIS_MEAN_PROCESSING_SECONDS: "analysis",
    Metric.ANALYSIS_FAILURE_RATE: "analysis",
    Metric.ANALYSIS_SUCCESS_RATE: "analysis",
    Metric.ANALYSIS_JOBS_OVER_TIME_LIMIT: "analysis",
    Metric.STEM_SEPARATION_MEAN_PROCESSING_SECONDS: "stem_separation",
    Metric.STEM_SEPARATION_FAILURE_RATE: "stem_separation",
    Metric.STEM_SEPARATION_JOBS_OVER_TIME_LIMIT: "stem_separation",
    Metric.STORAGE_FAILING: "storage",
    Metric.DATABASE_FAILING: "database",
    Metric.CACHE_FAILING: "cache",
    Metric.WORKERS_ALIVE: "workers",
    Metric.LEDGER_DRIFT: "billing",
}

_FAILING_CHECKS: dict[str, str] = {
    Metric.STORAGE_FAILING: "storage",
    Metric.DATABASE_FAILING: "database",
    Metric.CACHE_FAILING: "cache",
}


@dataclass(frozen=True)
class Sample:
    """One value of a metric for one set of labels; `detail` explains it to a human."""

    labels: dict[str, str]
    value: float
    detail: str = ""


@dataclass
class MetricSource:
    """Measures metrics as of `now`, caching checks and windowed stats for one evaluation."""

    now: datetime
    _checks: dict[str, CheckResult] = field(default_factory=dict)
    _stats: dict[tuple[str, int], selectors.ProcessingStats] = field(default_factory=dict)

    def check(self, name: str) -> CheckResult:
        if name not in self._checks:
            self._checks[name] = health.CHECKS[name]()
        return self._checks[name]

    def stats(
        self, window_seconds: int, service: selectors.Service = "analysis"
    ) -> selectors.ProcessingStats:
        if (service, window_seconds) not in self._stats:
            self._stats[(service, window_seconds)] = selectors.processing_stats(
                service=service,
                since=self.now - timedelta(seconds=window_seconds),
                until=self.now,
            )
        return self._stats[(service, window_seconds)]

    def samples(self, rule: AlertRule) -> list[Sample] | None:
        """Current samples of the rule's metric; None when it could not be measured.

        No samples (an empty list) means there is nothing to alert on, e.g. no finished jobs
        in the window; None means the measurement itself failed, so open alerts stay as they
        are rather than resolving on missing data.
        """
        metric = rule.metric
        if metric in _FAILING_CHECKS:
            result = self.check(_FAILING_CHECKS[metric])
            return [Sample({}, 0.0 if result.healthy else 1.0, result.error)]
        if metric == Metric.QUEUE_DEPTH:
            result = self.check("queues")
            if not result.healthy:
                return None
            return [
                Sample({"queue": name}, float(depth))
                for name, depth in sorted(result.metrics["queues"].items())
            ]
        if metric == Metric.WORKERS_ALIVE:
            result = self.check("workers")
            return [Sample({}, float(result.metrics.get("alive", 0)), result.error)]
        if metric in (
            Metric.ANALYSIS_JOBS_OVER_TIME_LIMIT,
            Metric.STEM_SEPARATION_JOBS_OVER_TIME_LIMIT,
        ):
            result = self.check(METRIC_SERVICES[metric])
            if "stuck_running" not in result.metrics:
                return None
            return [Sample({}, float(result.metrics["stuck_running"]), result.error)]
        if metric == Metric.LEDGER_DRIFT:
            report = selectors.ledger_reconciliation()
            return [Sample({}, float(report.total_drift), "" if report.ok else "ledger drift")]
        service: selectors.Service = (
            "stem_separation" if METRIC_SERVICES[metric] == "stem_separation" else "analysis"
        )
        stats = self.stats(rule.window_seconds, service)
        value = {
            Metric.ANALYSIS_MEAN_PROCESSING_SECONDS: stats.mean_seconds,
            Metric.ANALYSIS_FAILURE_RATE: stats.failure_rate,
            Metric.ANALYSIS_SUCCESS_RATE: stats.success_rate,
            Metric.STEM_SEPARATION_MEAN_PROCESSING_SECONDS: stats.mean_seconds,
            Metric.STEM_SEPARATION_FAILURE_RATE: stats.failure_rate,
        }[Metric(metric)]
        if value is None:
            return []
        return [Sample({}, float(value), f"{stats.total_operations} operations in the window")]
