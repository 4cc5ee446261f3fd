"""Test audio with known truth, built with NumPy (`tests.support.audio` writes it to files)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tests.support.audio import SAMPLE_RATE

C_MAJOR_TRIAD_HZ = (261.63, 329.63, 392.00)


def click_track_with_chord(
    *, seconds: float = 8.0, bpm: float = 120.0, channels: int = 2
) -> npt.NDArray[np.float32]:
    """A C major triad under a click on every beat (accented every 4th): tempo and key known."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    signal = np.zeros_like(t)
    for frequency in C_MAJOR_TRIAD_HZ:
        signal += 0.12 * np.sin(2 * np.pi * frequency * t)
    rng = np.random.default_rng(7)
    click_length = int(0.03 * SAMPLE_RATE)
    envelope = np.exp(-np.arange(click_length) / (0.004 * SAMPLE_RATE))
    for index, start in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        first = int(start * SAMPLE_RATE)
        burst = rng.uniform(-1.0, 1.0, click_length) * envelope * (0.8 if index % 4 == 0 else 0.5)
        end = min(first + click_length, t.size)
        signal[first:end] += burst[: end - first]
    mono = np.clip(signal, -1.0, 1.0).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)
