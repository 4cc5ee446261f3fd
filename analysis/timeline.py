"""Windows of a succeeded job's timeline: a time range at a screen's resolution."""

from __future__ import annotations

import gzip
import json
from typing import Any

from analysis.models import AnalysisJob
from analysis.selectors import analysis_arrays_gzip
from engine.timeline_view import arrays_as_numpy, q8_encode, timeline_window, window_as_json

# A window never holds more points than this, whatever resolution was asked for: enough for
# two points per pixel of a wide screen, small enough to answer quickly.
MAX_WINDOW_POINTS = 8000
ENCODINGS = ("json", "q8")


def analysis_timeline_window(
    *,
    job: AnalysisJob,
    start: float,
    end: float | None,
    resolution: float | None,
    encoding: str,
) -> dict[str, Any]:
    """The job's arrays between `start` and `end` s at <= `resolution` points per second.

    Raises AnalysisNotSucceeded / AnalysisFeatureMissing (409) as analysis_arrays_gzip does.
    """
    arrays = _arrays(job)
    duration = float(job.summary.get("duration") or 0.0)
    end_seconds = duration if end is None else min(end, duration)
    span = max(end_seconds - max(0.0, start), 1e-3)
    limit = MAX_WINDOW_POINTS / span
    window = timeline_window(
        arrays,
        start=start,
        end=end_seconds,
        resolution=min(resolution or limit, limit),
        duration=duration,
    )
    return q8_encode(window) if encoding == "q8" else window_as_json(window)


# Parsed arrays of the last few jobs, by storage key (a job's arrays never change under it):
# zooming asks for many windows of one job in a row, and parsing a long track's JSON takes
# about a second. The _succeeded check in analysis_arrays_gzip runs before anything is cached.
_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_SIZE = 4


def _arrays(job: AnalysisJob) -> dict[str, Any]:
    cached = _CACHE.get(job.arrays_key)
    if cached is None:
        cached = arrays_as_numpy(json.loads(gzip.decompress(analysis_arrays_gzip(job=job))))
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[job.arrays_key] = cached
    return cached
