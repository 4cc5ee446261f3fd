"""Geometry of the server-rendered usage chart: one stacked bar of credits per day.

Rendered as inline SVG with class names only (no style attributes), so it passes the strict
Content-Security-Policy without any script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billing.selectors import UsageDay

WIDTH = 720
HEIGHT = 180
AXIS = 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    feature: str
    label: str


@dataclass(frozen=True)
class UsageChart:
    width: int
    height: int
    baseline: int
    bars: tuple[Bar, ...]
    peak: int
    start: date
    end: date


def usage_chart(*, days: list[UsageDay], start: date, end: date) -> UsageChart:
    """Lay out credits spent per day and feature as stacked bars from `start` to `end`."""
    span = (end - start).days + 1
    totals: dict[date, int] = {}
    for day in days:
        totals[day.day] = totals.get(day.day, 0) + day.credits
    peak = max(totals.values(), default=0)
    slot = WIDTH / span
    plot_height = HEIGHT - AXIS
    bars: list[Bar] = []
    stacked: dict[date, float] = {}
    for day in sorted(days, key=lambda item: (item.day, item.feature)):
        if day.credits == 0 or peak == 0:
            continue
        height = plot_height * day.credits / peak
        below = stacked.get(day.day, 0.0)
        stacked[day.day] = below + height
        bars.append(
            Bar(
                x=round((day.day - start).days * slot + slot * 0.1, 2),
                y=round(plot_height - below - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                feature=day.feature,
                label=f"{day.day:%Y-%m-%d} {day.feature}: {day.credits} credits",
            )
        )
    return UsageChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=plot_height,
        bars=tuple(bars),
        peak=peak,
        start=start,
        end=start + timedelta(days=span - 1),
    )
