"""Tempo, beats, downbeats and onsets from the frame-rate onset envelopes.

* Tempo: the autocorrelation of the full-band onset envelope is summed over the first four
  multiples of each candidate beat period (a comb), for 40-240 BPM in 0.25 BPM steps.
* Octave guard: the comb peak is weighed by a log-normal preference centred on 120 BPM
  (one-octave spread), so a candidate at half or double the perceived tempo only wins when
  the signal's periodicity clearly favours it.
* Beats: a dynamic-programming tracker (Ellis, 2007) finds the beat sequence that best
  balances onset strength against deviation from the tempo. It runs on the onset envelope of
  the band below 200 Hz, where kick drum and bass mark the beat: syncopated mid- and
  high-frequency accents are what make a tracker on the full-band envelope lock onto the
  off-beat. When that band carries no onsets the full-band envelope is used.
* Downbeats: for meters 3 and 4 and every bar phase, the mean low-band onset strength on
  the candidate downbeats is compared with the other beats; the best contrast wins.
* Onsets: peaks of the full-band envelope above a moving median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Float64Array = npt.NDArray[np.float64]

MIN_BPM = 40.0
MAX_BPM = 240.0
_BPM_STEP = 0.25
_PRIOR_CENTRE_BPM = 120.0
_PRIOR_OCTAVES = 1.0
_COMB_MULTIPLES = 4
_TREND_SECONDS = 0.5
_TRACKER_TIGHTNESS = 100.0
_ONSET_WINDOW_SECONDS = 0.05
_ONSET_MEDIAN_SECONDS = 1.0
_ONSET_THRESHOLD = 0.5


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float
    confidence: float


@dataclass(frozen=True)
class Downbeats:
    beats_per_bar: int
    first_beat_index: int
    confidence: float


def onset_envelope(flux: npt.ArrayLike, frame_rate: float) -> Float64Array:
    """Flux minus its half-second moving average, rectified and scaled to unit deviation."""
    values = np.asarray(flux, dtype=np.float64)
    width = max(1, round(frame_rate * _TREND_SECONDS)) | 1
    trend = np.convolve(values, np.ones(width) / width, mode="same")
    rectified = np.clip(values - trend, 0.0, None)
    deviation = float(rectified.std())
    return rectified / deviation if deviation > 0 else rectified


def _autocorrelation(envelope: Float64Array) -> Float64Array:
    centred = envelope - envelope.mean()
    size = 1 << int(np.ceil(np.log2(2 * centred.size)))
    spectrum = np.fft.rfft(centred, size)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, size)[: centred.size]
    return correlation / correlation[0] if correlation[0] > 0 else correlation


def tempo_salience(
    envelope: Float64Array, frame_rate: float, *, octave_guard: bool = True
) -> tuple[Float64Array, Float64Array]:
    bpms = np.arange(MIN_BPM, MAX_BPM + _BPM_STEP / 2, _BPM_STEP)
    correlation = _autocorrelation(envelope)
    lag_axis = np.arange(correlation.size)
    salience = np.zeros_like(bpms)
    for multiple in range(1, _COMB_MULTIPLES + 1):
        lags = 60.0 * frame_rate / bpms * multiple
        inside = lags < correlation.size - 1
        salience[inside] += np.interp(lags[inside], lag_axis, correlation)
    salience = np.clip(salience, 0.0, None)
    if octave_guard:
        salience *= np.exp(-0.5 * (np.log2(bpms / _PRIOR_CENTRE_BPM) / _PRIOR_OCTAVES) ** 2)
    return bpms, salience


def estimate_tempo(
    envelope: Float64Array, frame_rate: float, *, octave_guard: bool = True
) -> TempoEstimate | None:
    """Global tempo, or None when the envelope has no periodicity at all.

    Confidence is the share of the winning peak's salience that stands above the median
    salience over all candidate tempi.
    """
    if envelope.size < 4 * frame_rate or not np.any(envelope > 0):
        return None
    bpms, salience = tempo_salience(envelope, frame_rate, octave_guard=octave_guard)
    best = int(np.argmax(salience))
    peak = float(salience[best])
    if peak <= 0:
        return None
    # Parabolic interpolation around the peak refines the tempo below the grid step.
    bpm = float(bpms[best])
    if 0 < best < bpms.size - 1:
        left, right = salience[best - 1], salience[best + 1]
        denominator = left - 2 * peak + right
        if denominator < 0:
            bpm += 0.5 * (left - right) / denominator * _BPM_STEP
    confidence = (peak - float(np.median(salience))) / peak
    return TempoEstimate(bpm=float(bpm), confidence=float(np.clip(confidence, 0.0, 1.0)))


def track_beats(envelope: Float64Array, frame_rate: float, bpm: float) -> Float64Array:
    """Beat times in seconds from Ellis's dynamic-programming tracker at the given tempo."""
    period = 60.0 * frame_rate / bpm
    count = envelope.size
    if count == 0:
        return np.zeros(0)
    shortest = max(1, round(period / 2))
    longest = max(shortest, round(period * 2))
    offsets = np.arange(shortest, longest + 1)
    penalty = -_TRACKER_TIGHTNESS * np.log(offsets / period) ** 2
    score = envelope.astype(np.float64).copy()
    backlink = np.full(count, -1, dtype=np.int64)
    for frame in range(shortest, count):
        previous = frame - offsets
        valid = previous >= 0
        candidates = score[previous[valid]] + penalty[valid]
        best = int(np.argmax(candidates))
        if candidates[best] > 0:
            score[frame] += candidates[best]
            backlink[frame] = previous[valid][best]
    tail_start = max(0, count - int(np.ceil(period)))
    frame = tail_start + int(np.argmax(score[tail_start:]))
    path: list[int] = []
    while frame >= 0:
        path.append(frame)
        frame = int(backlink[frame])
    return np.asarray(path[::-1], dtype=np.float64) / frame_rate


def estimate_downbeats(
    beat_frames: npt.NDArray[np.int64], low_envelope: Float64Array
) -> Downbeats | None:
    """Meter (3 or 4 beats per bar) and the index of the first downbeat, or None if unknown."""
    strengths = low_envelope[np.clip(beat_frames, 0, low_envelope.size - 1)]
    best: Downbeats | None = None
    best_contrast = 0.0
    for meter in (4, 3):
        if strengths.size < 2 * meter:
            continue
        for phase in range(meter):
            on_bar = np.arange(strengths.size) % meter == phase
            contrast = float(strengths[on_bar].mean() - strengths[~on_bar].mean())
            if contrast > best_contrast:
                total = float(strengths[on_bar].mean() + strengths[~on_bar].mean())
                best_contrast = contrast
                best = Downbeats(meter, phase, contrast / total if total > 0 else 0.0)
    return best


def detect_onsets(envelope: Float64Array, frame_rate: float) -> tuple[Float64Array, Float64Array]:
    """Onset times (s) and strengths (envelope peak over the track's maximum)."""
    if envelope.size == 0 or float(envelope.max()) <= 0:
        return np.zeros(0), np.zeros(0)
    half = max(1, round(_ONSET_WINDOW_SECONDS * frame_rate))
    padded = np.pad(envelope, half, mode="constant")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    is_peak = envelope >= windows.max(axis=1)
    median_half = max(1, round(_ONSET_MEDIAN_SECONDS * frame_rate / 2))
    median_windows = np.lib.stride_tricks.sliding_window_view(
        np.pad(envelope, median_half, mode="edge"), 2 * median_half + 1
    )
    threshold = np.median(median_windows, axis=1) + _ONSET_THRESHOLD
    chosen = np.nonzero(is_peak & (envelope > threshold))[0]
    # Plateaus produce neighbouring equal maxima; keep the first frame of each.
    if chosen.size:
        chosen = chosen[np.concatenate([[True], np.diff(chosen) > half])]
    return chosen / frame_rate, envelope[chosen] / float(envelope.max())


def estimate_subdivision(
    beat_times: Float64Array, envelope: Float64Array, frame_rate: float
) -> int | None:
    """Tatums per beat (2 or 3): the split whose in-between positions carry most onset energy."""
    if beat_times.size < 3:
        return None
    starts, ends = beat_times[:-1], beat_times[1:]
    best: int | None = None
    best_strength = 0.0
    for parts in (2, 3):
        fractions = np.arange(1, parts) / parts
        positions = starts[:, None] + (ends - starts)[:, None] * fractions[None, :]
        frames = np.clip(np.round(positions * frame_rate).astype(np.int64), 0, envelope.size - 1)
        strength = float(envelope[frames].mean())
        if strength > best_strength:
            best, best_strength = parts, strength
    return best
