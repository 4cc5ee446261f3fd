"""Pipeline health stays readable with few jobs: markers per point, labelled check details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitoring.dashboard import check_details, percentile_chart
from monitoring.selectors import TimelineBucket

START = datetime(2026, 1, 1, tzinfo=UTC)


def _bucket(hour: int, p50: float | None, p95: float | None) -> TimelineBucket:
    finished = 0 if p50 is None else 2
    return TimelineBucket(
        start=START + timedelta(hours=hour),
        total_operations=finished,
        succeeded=finished,
        failed=0,
        p50_seconds=p50,
        p95_seconds=p95,
        mean_seconds=p50,
    )


def test_one_busy_hour_among_empty_ones_still_draws_its_percentiles() -> None:
    timeline = [_bucket(hour, None, None) for hour in range(24)]
    timeline[20] = _bucket(20, 4.0, 9.0)

    chart = percentile_chart(timeline)

    assert [point.label for point in chart.markers["p50"]] == ["20:00 · p50 4.00 s"]
    assert [point.label for point in chart.markers["p95"]] == ["20:00 · p95 9.00 s"]
    assert chart.markers["p95"][0].y < chart.markers["p50"][0].y


def test_check_details_are_labelled_values_not_key_value_dumps() -> None:
    details = check_details(
        {"oldest_queued_age_seconds": None, "success_rate": 99.5, "available": True, "queues": {}}
    )

    assert [(detail.label, detail.value) for detail in details] == [
        ("Oldest queued age seconds", "—"),
        ("Success rate", "99.5"),
        ("Available", "yes"),
    ]
