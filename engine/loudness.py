"""EBU R128 / ITU-R BS.1770-4 loudness measured incrementally over streamed blocks.

The K-weighting runs through Essentia's IIR filter, one stateful instance per channel, so a
long file is filtered block by block without holding it whole. Mean squares are kept per
100 ms sub-block; 400 ms momentary blocks (75 % overlap) and 3 s short-term blocks are sums of
consecutive sub-blocks, exactly the block grid the standard prescribes. Channels are weighted
1.0 each (mono and stereo; wider layouts are down-mixed to stereo by the decoder).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine._essentia import IirFilter

FloatArray = npt.NDArray[np.float32]

SUBBLOCK_SECONDS = 0.1
MOMENTARY_SUBBLOCKS = 4
SHORT_TERM_SUBBLOCKS = 30
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_RANGE_RELATIVE_GATE_LU = -20.0
_OVERSAMPLING = 4
_TAPS_PER_PHASE = 16
# Samples carried into the next block's true-peak pass so the interpolation filter never
# starts cold at a block edge.
_TRUE_PEAK_OVERLAP = _TAPS_PER_PHASE


def _interpolation_phases() -> npt.NDArray[np.float64]:
    """Polyphase windowed-sinc filters for the fractional positions 1/4, 2/4 and 3/4.

    Essentia's TruePeakDetector resamples through libsamplerate and costs more than all other
    descriptors together, so the 4x oversampling of BS.1770-4 annex 2 is done here directly.
    """
    centre = _TAPS_PER_PHASE // 2 - 1
    phases = []
    for phase in range(1, _OVERSAMPLING):
        offsets = np.arange(_TAPS_PER_PHASE) - centre - phase / _OVERSAMPLING
        window = np.kaiser(_TAPS_PER_PHASE, 8.0)
        taps = np.sinc(offsets) * window
        phases.append(taps / taps.sum())
    return np.asarray(phases)


_PHASES = _interpolation_phases().astype(np.float32)
_PHASE_L1_NORM = float(np.abs(_PHASES).sum(axis=1).max())


def true_peak(samples: FloatArray) -> float:
    """Largest magnitude over all channels of the signal oversampled 4x (BS.1770-4 annex 2).

    ``samples`` is one channel (1-D) or frames x channels. An interpolated value can exceed
    the sample peak only where some sample in its filter window is above the sample peak
    divided by the filter's L1 norm, so only those positions are interpolated; the result is
    the same as interpolating everywhere.
    """
    if samples.size == 0:
        return 0.0
    frames = samples.reshape(samples.shape[0], -1).astype(np.float32, copy=False)
    magnitude = np.abs(frames)
    peak = float(magnitude.max())
    if frames.shape[0] < _TAPS_PER_PHASE or peak == 0:
        return peak
    threshold = peak / _PHASE_L1_NORM
    span = np.arange(_TAPS_PER_PHASE)
    last_start = frames.shape[0] - _TAPS_PER_PHASE
    for channel in range(frames.shape[1]):
        loud = np.nonzero(magnitude[:, channel] >= threshold)[0]
        if loud.size == 0:
            continue
        starts = np.unique(np.clip((loud[:, None] - span[None, :]).ravel(), 0, last_start))
        windows = frames[starts[:, None] + span[None, :], channel]
        peak = max(peak, float(np.max(np.abs(windows @ _PHASES.T))))
    return peak


def k_weighting_coefficients(
    sample_rate: int,
) -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    """Pre-filter (high shelf) and RLB high-pass biquads of BS.1770 for any sample rate.

    The analogue prototypes are those behind the 48 kHz coefficients printed in BS.1770,
    re-discretised with the bilinear transform (as libebur128 does).
    """
    f0 = 1681.974450955533
    gain_db = 3.999843853973347
    q = 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    ]
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    f0 = 38.13547087602444
    q = 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1.0 + k / q + k * k
    highpass_b = [1.0, -2.0, 1.0]
    highpass_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return (shelf_b, shelf_a), (highpass_b, highpass_a)


def power_to_lufs(power: float) -> float:
    return -0.691 + 10.0 * math.log10(power) if power > 0 else -math.inf


@dataclass(frozen=True)
class LoudnessSummary:
    """None marks a value the audio does not have: no block above the -70 LUFS gate (integrated,
    range), under 3 s (range), digital silence (true peak)."""

    integrated_lufs: float | None
    range_lu: float | None
    true_peak_dbtp: float | None
    subblock_power: FloatArray


class LoudnessMeter:
    def __init__(self, sample_rate: int, channels: int) -> None:
        (shelf_b, shelf_a), (hp_b, hp_a) = k_weighting_coefficients(sample_rate)
        self._sample_rate = sample_rate
        self._filters = [
            (IirFilter(shelf_b, shelf_a), IirFilter(hp_b, hp_a)) for _ in range(channels)
        ]
        self._subblock = round(sample_rate * SUBBLOCK_SECONDS)
        self._pending: FloatArray = np.zeros((0, channels), dtype=np.float32)
        self._powers: list[FloatArray] = []
        self._peak_tail: FloatArray = np.zeros((0, channels), dtype=np.float32)
        self._true_peak = 0.0

    def push(self, block: FloatArray) -> None:
        squares = np.empty(block.shape, dtype=np.float32)
        for channel, (shelf, highpass) in enumerate(self._filters):
            weighted = highpass(shelf(block[:, channel]))
            squares[:, channel] = weighted * weighted
        squares = np.concatenate([self._pending, squares])
        whole = squares.shape[0] // self._subblock
        if whole:
            rows = squares[: whole * self._subblock].reshape(whole, -1)
            # Each row holds one sub-block of all channels; channel weights are all 1.
            mean_square = rows.sum(axis=1, dtype=np.float64) / self._subblock
            self._powers.append(mean_square.astype(np.float32))
        self._pending = squares[whole * self._subblock :]
        with_tail = np.concatenate([self._peak_tail, block])
        self._true_peak = max(self._true_peak, true_peak(with_tail))
        self._peak_tail = block[-_TRUE_PEAK_OVERLAP:].copy()

    def finish(self) -> LoudnessSummary:
        powers = np.concatenate(self._powers) if self._powers else np.zeros(0, dtype=np.float32)
        momentary = block_powers(powers, MOMENTARY_SUBBLOCKS)
        short_term = block_powers(powers, SHORT_TERM_SUBBLOCKS)
        integrated = gated_integrated_loudness(momentary)
        loudness_range = gated_loudness_range(short_term)
        return LoudnessSummary(
            integrated_lufs=integrated,
            range_lu=loudness_range,
            true_peak_dbtp=20.0 * math.log10(self._true_peak) if self._true_peak > 0 else None,
            subblock_power=powers,
        )


def block_powers(subblock_power: FloatArray, length: int) -> npt.NDArray[np.float64]:
    """Mean power of every run of ``length`` consecutive 100 ms sub-blocks."""
    if subblock_power.size < length:
        return np.zeros(0, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(subblock_power, dtype=np.float64)])
    return np.asarray((cumulative[length:] - cumulative[:-length]) / length, dtype=np.float64)


def _lufs_array(power: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(power)


def gated_integrated_loudness(momentary_power: npt.NDArray[np.float64]) -> float | None:
    """Gated integrated loudness (LUFS); None when no 400 ms block passes the -70 LUFS gate."""
    loudness = _lufs_array(momentary_power)
    above_absolute = momentary_power[loudness > _ABSOLUTE_GATE_LUFS]
    if above_absolute.size == 0:
        return None
    relative_gate = power_to_lufs(float(above_absolute.mean())) + _RELATIVE_GATE_LU
    gated = above_absolute[_lufs_array(above_absolute) > relative_gate]
    return power_to_lufs(float(gated.mean()))


def gated_loudness_range(short_term_power: npt.NDArray[np.float64]) -> float | None:
    """EBU Tech 3342 loudness range: spread between the 10th and 95th percentile; None when
    the audio is shorter than 3 s or no 3 s block passes the -70 LUFS gate."""
    loudness = _lufs_array(short_term_power)
    above_absolute = short_term_power[loudness > _ABSOLUTE_GATE_LUFS]
    if above_absolute.size == 0:
        return None
    relative_gate = power_to_lufs(float(above_absolute.mean())) + _RANGE_RELATIVE_GATE_LU
    kept = _lufs_array(above_absolute)
    kept = kept[kept > relative_gate]
    low, high = np.percentile(kept, [10, 95])
    return float(high - low)


def momentary_on_grid(
    subblock_power: FloatArray, times: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Momentary loudness (LUFS) of the 400 ms window centred on each time; -inf in silence."""
    momentary = block_powers(subblock_power, MOMENTARY_SUBBLOCKS)
    if momentary.size == 0:
        return np.full(times.shape, np.nan)
    centres = (
        np.arange(momentary.size) * SUBBLOCK_SECONDS + MOMENTARY_SUBBLOCKS * SUBBLOCK_SECONDS / 2
    )
    power = np.interp(times, centres, momentary)
    return _lufs_array(power)
