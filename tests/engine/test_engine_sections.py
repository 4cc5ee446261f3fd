from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from engine.frames import FRAME_RATE, MFCC_COEFFICIENTS
from engine.structure import find_sections

BLOCK_SECONDS = 40.0


def _blocky_mfcc(minutes: float, seed: int) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    frames = int(minutes * 60 * FRAME_RATE)
    block = round(BLOCK_SECONDS * FRAME_RATE)
    means = rng.standard_normal((frames // block + 1, MFCC_COEFFICIENTS)) * 3
    noise = rng.standard_normal((frames, MFCC_COEFFICIENTS))
    return (noise + np.repeat(means, block, axis=0)[:frames]).astype(np.float32)


def test_boundaries_are_found_on_both_sides_of_the_ten_minute_window_seams() -> None:
    sections = find_sections(_blocky_mfcc(25, seed=1), FRAME_RATE, 25 * 60.0)
    starts = np.array([s.start for s in sections[1:]])
    block = round(BLOCK_SECONDS * FRAME_RATE) / FRAME_RATE
    expected = np.arange(1, int(25 * 60 / block) + 1) * block
    nearest = np.abs(starts[:, None] - expected[None, :]).min(axis=0)
    # Every true change, including those next to 600 s and 1200 s, has a boundary within 2 s.
    assert float(nearest.max()) < 2.0
    assert len(starts) == len(set(np.round(starts)))


def test_an_hour_of_unchanging_frames_is_segmented_in_linear_time() -> None:
    rng = np.random.default_rng(2)
    hour = rng.standard_normal((int(3600 * FRAME_RATE), MFCC_COEFFICIENTS)).astype(np.float32)
    started = time.process_time()
    sections = find_sections(hour, FRAME_RATE, 3600.0)
    # Unwindowed SBic took about 3.7 s of CPU here; windowed it takes a small fraction of that.
    assert time.process_time() - started < 1.5
    assert sections[0].start == 0.0
    assert sections[-1].end == 3600.0
