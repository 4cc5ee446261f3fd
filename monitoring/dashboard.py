"""What the staff "Pipeline health" page shows, with its charts drawn as SVG geometry.

Charts are computed here as plain points and bars so the template can draw them as inline
SVG: the strict CSP forbids inline script and style, and SVG needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitoring import health, selectors
from monitoring.selectors import TimelineBucket

WINDOW = timedelta(hours=24)
BUCKET = timedelta(hours=1)
CHART_WIDTH = 720
CHART_HEIGHT = 160
CHART_PADDING = 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class LineChart:
    """Polylines by series name, plus a marker per point: one finished hour draws no line."""

    series: dict[str, str]
    markers: dict[str, list[Point]]
    maximum: float
    unit: str


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    maximum: float
    unit: str


def _y(value: float, maximum: float) -> float:
    usable = CHART_HEIGHT - 2 * CHART_PADDING
    return round(CHART_HEIGHT - CHART_PADDING - (value / maximum) * usable, 1)


def _x(index: int, count: int) -> float:
    usable = CHART_WIDTH - 2 * CHART_PADDING
    return round(CHART_PADDING + index * usable / max(1, count - 1), 1)


def percentile_chart(timeline: list[TimelineBucket]) -> LineChart:
    """p50 and p95 processing time per bucket; buckets without finished jobs leave a gap."""
    values = [
        value
        for point in timeline
        for value in (point.p50_seconds, point.p95_seconds)
        if value is not None
    ]
    maximum = max(values, default=0.0) or 1.0
    series: dict[str, str] = {}
    markers: dict[str, list[Point]] = {}
    for name in ("p50_seconds", "p95_seconds"):
        short = name.removesuffix("_seconds")
        points = [
            Point(
                x=_x(index, len(timeline)),
                y=_y(getattr(point, name), maximum),
                label=f"{point.start:%H:%M} · {short} {getattr(point, name):.2f} s",
            )
            for index, point in enumerate(timeline)
            if getattr(point, name) is not None
        ]
        series[short] = " ".join(f"{point.x},{point.y}" for point in points)
        markers[short] = points
    return LineChart(series=series, markers=markers, maximum=round(maximum, 2), unit="s")


def throughput_chart(timeline: list[TimelineBucket]) -> BarChart:
    """Finished operations per bucket (per hour over the 24 h window)."""
    maximum = float(max((point.total_operations for point in timeline), default=0) or 1)
    usable = CHART_WIDTH - 2 * CHART_PADDING
    width = usable / max(1, len(timeline))
    bars = []
    for index, point in enumerate(timeline):
        top = _y(point.total_operations, maximum)
        bars.append(
            Bar(
                x=round(CHART_PADDING + index * width + 1, 1),
                y=top,
                width=round(max(1.0, width - 2), 1),
                height=round(CHART_HEIGHT - CHART_PADDING - top, 1),
                label=f"{point.start:%H:%M} · {point.total_operations}",
            )
        )
    return BarChart(bars=bars, maximum=maximum, unit="jobs/h")


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


def check_details(metrics: dict[str, Any]) -> list[Detail]:
    """A check's measurements as labelled values ("Oldest job age" rather than oldest_job_age)."""
    details = []
    for key, value in metrics.items():
        if key == "queues":
            continue
        label = key.replace("_", " ").capitalize()
        if value is None:
            shown = "—"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float):
            shown = f"{value:.2f}".rstrip("0").rstrip(".")
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(item) for item in value) or "none"
        elif isinstance(value, dict):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        else:
            shown = str(value)
        details.append(Detail(label=label, value=shown))
    return details


def dashboard_context(*, now: datetime) -> dict[str, Any]:
    """Everything the dashboard shows, measured now."""
    since = now - WINDOW
    results = health.run_checks()
    checks = {result.service: result for result in results}
    timeline = selectors.processing_timeline(
        service="analysis", since=since, until=now, bucket=BUCKET
    )
    return {
        "checked_at": now,
        "checks": results,
        "check_rows": [
            {"check": result, "details": check_details(result.metrics)} for result in results
        ],
        "overall": health.overall(results),
        "queues": checks["queues"].metrics.get("queues", {}),
        "queues_error": checks["queues"].error,
        "alerts": list(selectors.alerts_active().order_by("-fired_at")),
        "stats": selectors.processing_stats(service="analysis", since=since, until=now),
        "stem_stats": selectors.processing_stats(service="stem_separation", since=since, until=now),
        "percentiles": percentile_chart(timeline),
        "throughput": throughput_chart(timeline),
        "failures": selectors.failures_by_code(since=since),
        "credits": selectors.credits_by_feature(since=since),
        "window_start": since,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "refresh_seconds": 30,
    }
