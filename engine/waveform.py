"""Min/max peak envelope for drawing a waveform, built block by block."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

POINTS_PER_SECOND = 100


@dataclass(frozen=True)
class WaveformPeaks:
    points_per_second: int
    minimum: FloatArray
    maximum: FloatArray


class WaveformBuilder:
    """Each point spans ``sample_rate / POINTS_PER_SECOND`` samples and holds the lowest and
    highest sample value over all channels in that span."""

    def __init__(self, sample_rate: int) -> None:
        self._span = sample_rate // POINTS_PER_SECOND
        self._pending: FloatArray | None = None
        self._low: list[FloatArray] = []
        self._high: list[FloatArray] = []

    def push(self, block: FloatArray) -> None:
        samples = block if self._pending is None else np.concatenate([self._pending, block])
        whole = samples.shape[0] // self._span * self._span
        if whole:
            # Rows hold one point's frames of every channel, so one reduction covers both.
            rows = samples[:whole].reshape(-1, self._span * samples.shape[1])
            self._high.append(rows.max(axis=1))
            self._low.append(rows.min(axis=1))
        self._pending = samples[whole:]

    def finish(self) -> WaveformPeaks:
        highs = [*self._high]
        lows = [*self._low]
        if self._pending is not None and self._pending.size:
            highs.append(np.array([self._pending.max()], dtype=np.float32))
            lows.append(np.array([self._pending.min()], dtype=np.float32))
        empty = np.zeros(0, dtype=np.float32)
        return WaveformPeaks(
            POINTS_PER_SECOND,
            np.concatenate(lows) if lows else empty,
            np.concatenate(highs) if highs else empty,
        )
