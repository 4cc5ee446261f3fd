"""Structural sections from MFCC frames with Essentia's BIC segmentation (SBic).

MFCC frames are averaged into 0.5 s steps first: sections are tens of seconds long, and the
coarser grid keeps SBic's cost small on long files. A section is never shorter than
``MIN_SECTION_SECONDS``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.engine._essentia import bic_segmentation

FloatArray = npt.NDArray[np.float32]

STEP_SECONDS = 0.5
MIN_SECTION_SECONDS = 8.0
_FIRST_PASS_SECONDS = 30.0
_SECOND_PASS_SECONDS = 20.0


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


def find_sections(mfcc: FloatArray, frame_rate: float, duration: float) -> list[Section]:
    pooled, step = pooled_frames(mfcc, frame_rate)
    seconds_per_row = step / frame_rate
    min_rows = round(MIN_SECTION_SECONDS / seconds_per_row)
    if pooled.shape[0] < 2 * min_rows:
        return [Section(0.0, duration, None)]
    boundaries = bic_segmentation(
        pooled.T,
        min_length=min_rows,
        size1=round(_FIRST_PASS_SECONDS / seconds_per_row),
        size2=round(_SECOND_PASS_SECONDS / seconds_per_row),
    )
    inner = sorted({b for b in boundaries if min_rows <= b <= pooled.shape[0] - min_rows})
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
