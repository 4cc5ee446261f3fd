"""Structural sections from MFCC frames with Essentia's BIC segmentation (SBic).

MFCC frames are averaged into 0.5 s steps first: sections are tens of seconds long, and the
coarser grid keeps SBic's cost small. SBic's cost grows faster than linearly with the number of
rows when it finds few boundaries (3.7 s on an hour of homogeneous frames against 0.02 s on ten
minutes), so long files are segmented in overlapping ten-minute windows; each window keeps only
the boundaries in its middle part, where it sees enough context on both sides. A section is
never shorter than ``MIN_SECTION_SECONDS``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine._essentia import bic_segmentation

FloatArray = npt.NDArray[np.float32]

STEP_SECONDS = 0.5
MIN_SECTION_SECONDS = 8.0
_FIRST_PASS_SECONDS = 30.0
_SECOND_PASS_SECONDS = 20.0
_WINDOW_SECONDS = 600.0
# Twice SBic's first-pass window: a boundary that one window sees only near its edge lies well
# inside the next one.
_OVERLAP_SECONDS = 2 * _FIRST_PASS_SECONDS


@dataclass(frozen=True)
class Section:
    start: float
    end: float
    # Distance between this section's mean MFCC and the previous one's, over the largest such
    # distance in the track; the first section has none.
    novelty: float | None


def pooled_frames(mfcc: FloatArray, frame_rate: float) -> tuple[FloatArray, int]:
    step = max(1, round(STEP_SECONDS * frame_rate))
    usable = mfcc.shape[0] // step * step
    pooled = mfcc[:usable].reshape(-1, step, mfcc.shape[1]).mean(axis=1)
    return pooled.astype(np.float32), step


def _windowed_boundaries(pooled: FloatArray, seconds_per_row: float, min_rows: int) -> list[int]:
    rows = pooled.shape[0]
    window = round(_WINDOW_SECONDS / seconds_per_row)
    overlap = round(_OVERLAP_SECONDS / seconds_per_row)
    found: list[int] = []
    start = 0
    while True:
        stop = min(rows, start + window)
        boundaries = bic_segmentation(
            pooled[start:stop].T,
            min_length=min_rows,
            size1=round(_FIRST_PASS_SECONDS / seconds_per_row),
            size2=round(_SECOND_PASS_SECONDS / seconds_per_row),
        )
        low = start + overlap // 2 if start > 0 else 0
        high = stop - overlap // 2 if stop < rows else rows
        found += [start + b for b in boundaries if low <= start + b < high]
        if stop >= rows:
            break
        start = stop - overlap
    kept: list[int] = []
    for boundary in sorted(set(found)):
        if min_rows <= boundary <= rows - min_rows and (
            not kept or boundary - kept[-1] >= min_rows
        ):
            kept.append(boundary)
    return kept


def find_sections(mfcc: FloatArray, frame_rate: float, duration: float) -> list[Section]:
    pooled, step = pooled_frames(mfcc, frame_rate)
    seconds_per_row = step / frame_rate
    min_rows = round(MIN_SECTION_SECONDS / seconds_per_row)
    if pooled.shape[0] < 2 * min_rows:
        return [Section(0.0, duration, None)]
    inner = _windowed_boundaries(pooled, seconds_per_row, min_rows)
    edges = [0, *inner, pooled.shape[0]]
    means = [pooled[a:b].mean(axis=0) for a, b in itertools.pairwise(edges)]
    distances = [float(np.linalg.norm(means[i] - means[i - 1])) for i in range(1, len(means))]
    largest = max(distances, default=0.0)
    times = [edge * seconds_per_row for edge in edges]
    times[-1] = duration
    sections = []
    for index in range(len(edges) - 1):
        novelty = None
        if index > 0 and largest > 0:
            novelty = distances[index - 1] / largest
        sections.append(Section(times[index], times[index + 1], novelty))
    return sections
