"""Tempo, beats, downbeats and onsets from the frame-rate onset envelopes.

* Tempo: the autocorrelation of the full-band onset envelope is summed over the first four
  multiples of each candidate beat period (a comb), for 40-240 BPM in 0.25 BPM steps.
* Octave guard, first step: a comb sums over multiples of the period, so its peak can sit at
  a quarter, third, half or double of the beat rate just as well. The tempi related to the
  peak by 1/4, 1/3, 1/2, 2/3, 1, 3/2, 2, 3 and 4 are therefore compared by how well a beat
  grid at each explains the onsets (``grid_evidence``): in every 8 s window the grid at its
  best phase collects the onset strength at its points, divided by the square root of its
  number of points, so a grid twice as dense must collect more than sqrt(2) times the
  strength to win (its extra points must land on real onsets) and a grid half as dense must
  keep more than 1/sqrt(2) of it. The evidence is the geometric mean over three envelopes:
  the full band, the band below 200 Hz (kick drum and bass) and the band from 200 Hz to
  4 kHz (snare, chords, melody), with a log-normal preference for tempi near 110 BPM (spread
  1.75 octaves). This step finds the tempo's family (a triple relation as well as a double
  one) but not reliably its octave: in the log flux a soft hi-hat weighs nearly as much as a
  kick, and a kick on every beat under eighth-note hats looks to every band like kick and
  snare alternating under hats at twice the rate.
* Octave guard, second step (``beat_octave``): the octave is settled by the instruments that
  carry the beat. The body envelope (``body_envelope``) takes, frame by frame, the larger of
  the plain-magnitude (not log) onset envelopes below 200 Hz and from 200 Hz to 4 kHz, each
  scaled to unit deviation: a kick and a snare each count in full, a hi-hat, whose magnitude
  below 4 kHz is small, hardly at all. The tempo moves to its half or double while that has
  more grid evidence in the body envelope (with the same tempo preference). So a kick on
  every beat keeps the beat although hats fill the level below it, and a snare between the
  kicks is a beat of its own. A move is allowed only between two tempi of which the slower
  groups the faster's beats in twos rather than threes (the body onsets give more evidence at
  half than at a third of the faster), so the step never lands on every other eighth note of
  6/8, which is no level of the meter.
* Pulse clarity (the tempo confidence): whether there is a pulse at all. In every 8 s window,
  at the window's own tempo within ±4 % of the global one (so ramps and drift still count),
  three things must hold at once: the onsets fall on a grid (onset strength on the grid at its
  best phase over the window's mean strength), they are attacks rather than swells (strength
  70 ms either side of the grid points small against the points themselves), and they recur
  (the window's normalised onset autocorrelation at the best of one to four beat periods, so
  a syncopated pattern that repeats by the bar still counts). The median over windows of
  their product keeps one odd window from deciding. It is scaled by the size of the attacks,
  ``a / (a + 20)`` where ``a`` is the 99th percentile of the flux above its half-second trend
  (in summed log-magnitude units): the onset envelope is normalised, so without it the
  quantisation noise of a pad or the slow rise of a tremolo would be read as onsets. The
  result ``x`` is mapped to 0-1 by ``x / (x + 0.43)``. Each factor alone lets some beatless
  audio through: tremolo recurs but has no attacks, rubato playing and speech have attacks on
  no steady grid, noise has neither.
  Below ``PULSE_THRESHOLD`` the tempo is reported absent (measured in docs/accuracy.md).
* Tempo alternatives: the other octave (half or double the tempo, whichever the second
  step's evidence favours among its candidates), weighted by its share of the evidence of the
  two, as MIREX tempo estimators report T1, T2 and their relative strength.
* Beats: a dynamic-programming tracker (Ellis, 2007) finds the beat sequence that best
  balances onset strength against deviation from the tempo. It runs on the onset envelope of
  the band below 200 Hz, where kick drum and bass mark the beat: syncopated mid- and
  high-frequency accents are what make a tracker on the full-band envelope lock onto the
  off-beat. When that band carries no onsets the full-band envelope is used. How strongly it
  holds the tempo is estimated from the signal (``tempo_instability``, ``tracker_tightness``):
  a steady performance keeps a near-rigid grid, so strong syncopated accents cannot drag it
  onto the off-beat, while a drifting or changing tempo keeps the tracker free to follow.
* Downbeats: for 2 to 7 beats per bar and every bar phase, the mean low-band onset strength
  on the candidate downbeats is compared with the other beats; the best contrast wins. The
  meter confidence is its share of the two means times the accent's regularity, the
  fraction of bars whose downbeat is at least as strong as every other beat of the bar: a
  bar is heard when its accent recurs bar after bar, while beats that only differ by chance
  (a tremolo beating against the tempo) can still show a high contrast on average. Below
  ``METER_THRESHOLD`` the meter is reported absent and no downbeats are drawn: equal beats
  (a click, a kick on every beat) carry no bar.
* Onsets: peaks of the full-band envelope above a moving median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Float64Array = npt.NDArray[np.float64]

MIN_BPM = 40.0
# The tempo comb needs a few beats even at the slowest tempo.
MIN_TEMPO_SECONDS = 4.0
MAX_BPM = 240.0
_BPM_STEP = 0.25
_CANDIDATE_RATIOS = (1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0, 4.0)
_EVIDENCE_WINDOW_SECONDS = 8.0
_PRIOR_CENTRE_BPM = 110.0
_PRIOR_OCTAVES = 1.75
_COMB_MULTIPLES = 4
_TREND_SECONDS = 0.5
_MIN_TIGHTNESS = 100.0
_MAX_TIGHTNESS = 30000.0
_LOCAL_TEMPO_RANGE = 0.15
_LOCAL_TEMPO_STEP = 0.0025
# Beat intervals are whole frames: rounding a fractional period by up to half a frame is not a
# deviation from the tempo.
_QUANTISATION_FRAMES = 0.5
_ONSET_WINDOW_SECONDS = 0.05
_ONSET_MEDIAN_SECONDS = 1.0
_ONSET_THRESHOLD = 0.5
_CLARITY_RANGE = 0.04
_CLARITY_STEPS = 5
# 70 ms at 43 frames/s: past the attack of a drum or a plucked string, still inside a swell.
_ATTACK_SIDE_FRAMES = 3
_CLARITY_SCALE = 0.43
_ATTACK_SCALE = 20.0
_ATTACK_PERCENTILE = 99.0
_RECURRENCE_MULTIPLES = 4
_METERS = (2, 3, 4, 5, 6, 7)
# Chosen by measurement on labelled material (bench/accuracy.py, docs/accuracy.md).
PULSE_THRESHOLD = 0.46
METER_THRESHOLD = 0.34


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float
    confidence: float
    # The other octave (half or double the tempo) and its share of the evidence of the two.
    alternative: tuple[float, float] | None = None


@dataclass(frozen=True)
class Downbeats:
    beats_per_bar: int
    first_beat_index: int
    confidence: float


def _above_trend(flux: npt.ArrayLike, frame_rate: float) -> Float64Array:
    values = np.asarray(flux, dtype=np.float64)
    width = max(1, round(frame_rate * _TREND_SECONDS)) | 1
    trend = np.convolve(values, np.ones(width) / width, mode="same")
    return np.clip(values - trend, 0.0, None)


def onset_envelope(flux: npt.ArrayLike, frame_rate: float) -> Float64Array:
    """Flux minus its half-second moving average, rectified and scaled to unit deviation."""
    rectified = _above_trend(flux, frame_rate)
    deviation = float(rectified.std())
    return rectified / deviation if deviation > 0 else rectified


def attack_size(flux: npt.ArrayLike, frame_rate: float) -> float:
    """The 99th percentile of the flux above its trend: how big the audio's attacks are."""
    rectified = _above_trend(flux, frame_rate)
    return float(np.percentile(rectified, _ATTACK_PERCENTILE)) if rectified.size else 0.0


def _autocorrelation(envelope: Float64Array) -> Float64Array:
    centred = envelope - envelope.mean()
    size = 1 << int(np.ceil(np.log2(2 * centred.size)))
    spectrum = np.fft.rfft(centred, size)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, size)[: centred.size]
    return correlation / correlation[0] if correlation[0] > 0 else correlation


def tempo_salience(envelope: Float64Array, frame_rate: float) -> tuple[Float64Array, Float64Array]:
    bpms = np.arange(MIN_BPM, MAX_BPM + _BPM_STEP / 2, _BPM_STEP)
    correlation = _autocorrelation(envelope)
    lag_axis = np.arange(correlation.size)
    salience = np.zeros_like(bpms)
    for multiple in range(1, _COMB_MULTIPLES + 1):
        lags = 60.0 * frame_rate / bpms * multiple
        inside = lags < correlation.size - 1
        salience[inside] += np.interp(lags[inside], lag_axis, correlation)
    return np.asarray(bpms, dtype=np.float64), np.clip(salience, 0.0, None)


def _window_evidence(envelope: Float64Array, frame_rate: float, bpm: float) -> Float64Array:
    """Per half-overlapping window: onset strength on the best-phased grid at ``bpm``, over
    the square root of the grid's number of points. Empty when a window holds no two beats."""
    period = 60.0 * frame_rate / bpm
    tolerant = envelope.copy()
    tolerant[1:] = np.maximum(tolerant[1:], envelope[:-1])
    tolerant[:-1] = np.maximum(tolerant[:-1], envelope[1:])
    window = min(tolerant.size, round(_EVIDENCE_WINDOW_SECONDS * frame_rate))
    phase_count = int(np.ceil(period))
    if window < phase_count + period:
        return np.zeros(0)
    points = int((window - phase_count) // period) + 1
    offsets = np.round(
        np.arange(phase_count)[:, None] + np.arange(points)[None, :] * period
    ).astype(np.int64)
    starts = np.arange(0, tolerant.size - window + 1, max(1, window // 2))
    collected = tolerant[starts[:, None, None] + offsets[None, :, :]].sum(axis=2)
    return np.asarray(collected.max(axis=1) / np.sqrt(points), dtype=np.float64)


def grid_evidence(envelope: Float64Array, frame_rate: float, bpm: float) -> float:
    """Onset strength explained by beat grids at ``bpm``, summed over half-overlapping windows.

    Each window's grid takes its own best phase, so slow tempo drift does not count against
    the right tempo; onsets one frame off the grid still count.
    """
    return float(_window_evidence(envelope, frame_rate, bpm).sum())


def tempo_instability(envelope: Float64Array, frame_rate: float, bpm: float) -> float:
    """How far the local tempo strays from ``bpm``: the 90th percentile, over 8 s windows, of
    the absolute natural log of local over global tempo.

    Each window's tempo is the one within ±15 % of ``bpm`` (0.25 % steps) whose grid explains
    its onsets best; a tempo leaving that range pins windows to its edges, which still reads
    as very unstable. A single window shows no variation and reads as steady.
    """
    steps = round(2 * np.log1p(_LOCAL_TEMPO_RANGE) / _LOCAL_TEMPO_STEP) + 1
    ratios = np.exp(np.linspace(-np.log1p(_LOCAL_TEMPO_RANGE), np.log1p(_LOCAL_TEMPO_RANGE), steps))
    table = np.stack([_window_evidence(envelope, frame_rate, bpm * r) for r in ratios])
    if table.shape[1] < 2:
        return 0.0
    strays = np.abs(np.log(ratios[np.argmax(table, axis=0)]))
    return float(np.percentile(strays, 90))


def tracker_tightness(instability: float) -> float:
    """The tracker's transition weight for a tempo that varies by ``instability`` (log units).

    The transition penalty ``tightness * log(interval / period) ** 2`` is the log-likelihood of
    a log-normal interval with deviation 1 / sqrt(2 * tightness); matching that deviation to how
    far the local tempo strays from the global one lets a steady performance hold its grid
    through syncopated accents (which otherwise pull the tracker onto the off-beat) while a
    drifting or changing one stays free to follow.
    """
    if instability <= 0:
        return _MAX_TIGHTNESS
    return float(np.clip(1.0 / (2.0 * instability**2), _MIN_TIGHTNESS, _MAX_TIGHTNESS))


def _octave_evidence(candidate: float, bands: list[Float64Array], frame_rate: float) -> float:
    evidence = float(
        np.prod([grid_evidence(band, frame_rate, candidate) for band in bands]) ** (1 / len(bands))
    )
    return evidence * float(
        np.exp(-0.5 * (np.log2(candidate / _PRIOR_CENTRE_BPM) / _PRIOR_OCTAVES) ** 2)
    )


def _bands(
    envelope: Float64Array, low_envelope: Float64Array | None, mid_envelope: Float64Array | None
) -> list[Float64Array]:
    extra = [band for band in (low_envelope, mid_envelope) if band is not None]
    return [envelope] + [band for band in extra if np.any(band > 0)]


def choose_octave(
    bpm: float,
    envelope: Float64Array,
    low_envelope: Float64Array | None,
    frame_rate: float,
    mid_envelope: Float64Array | None = None,
) -> list[tuple[float, float]]:
    """``bpm``'s simple multiples and fractions with the evidence for each, best first."""
    # The comb's peak is the tempo most likely to be off by a simple ratio, not the truth.
    bands = _bands(envelope, low_envelope, mid_envelope)
    ranked = [
        (bpm * ratio, _octave_evidence(bpm * ratio, bands, frame_rate))
        for ratio in _CANDIDATE_RATIOS
        if MIN_BPM <= bpm * ratio <= MAX_BPM
    ]
    return sorted(ranked, key=lambda item: -item[1])


def body_envelope(
    low_magnitude_flux: npt.ArrayLike, mid_magnitude_flux: npt.ArrayLike, frame_rate: float
) -> Float64Array:
    """Onsets of the instruments that carry the beat: per frame the larger of the plain-magnitude
    onset envelopes below 200 Hz (kick, bass) and from 200 Hz to 4 kHz (snare, chords, melody),
    each scaled to unit deviation, so a kick and a snare each count in full while a hi-hat,
    whose magnitude below 4 kHz is small, hardly counts."""
    low = onset_envelope(low_magnitude_flux, frame_rate)
    return np.maximum(low, onset_envelope(mid_magnitude_flux, frame_rate))


def beat_octave(
    bpm: float, body: Float64Array, frame_rate: float
) -> tuple[float, tuple[float, float] | None]:
    """The octave of ``bpm`` the body envelope's grid evidence (with the tempo preference)
    favours, and the better of its own half and double with its share of the evidence of the
    two; no alternative when neither is a candidate.

    From ``bpm``, the tempo moves to its half or double while that has more evidence. A move
    is allowed only between two tempi of which the slower groups the faster's beats in twos
    rather than threes (more evidence at half than at a third of the faster): in 6/8 the level
    of every other eighth note cuts across the groups of three and is no level of the meter.
    """

    def evidence(tempo: float) -> float:
        return _octave_evidence(tempo, [body], frame_rate)

    def grouped_in_twos(tempo: float) -> bool:
        """Whether half of ``tempo`` rather than a third of it groups its beats."""
        third = tempo / 3
        return third < MIN_BPM or grid_evidence(body, frame_rate, tempo / 2) >= grid_evidence(
            body, frame_rate, third
        )

    def octaves(tempo: float) -> list[tuple[float, float]]:
        allowed = [tempo / 2] if grouped_in_twos(tempo) else []
        if grouped_in_twos(tempo * 2):
            allowed.append(tempo * 2)
        return [(c, evidence(c)) for c in allowed if MIN_BPM <= c <= MAX_BPM]

    chosen, own = bpm, evidence(bpm)
    # Each move doubles or halves the tempo inside 40-240 BPM, so it stops within three.
    while True:
        neighbours = octaves(chosen)
        if not neighbours:
            return chosen, None
        candidate, candidate_evidence = max(neighbours, key=lambda item: item[1])
        if candidate_evidence <= own:
            total = own + candidate_evidence
            return chosen, (candidate, candidate_evidence / total if total > 0 else 0.5)
        chosen, own = candidate, candidate_evidence


def pulse_clarity(envelope: Float64Array, frame_rate: float, bpm: float) -> float:
    """How clearly the onsets form a pulse near ``bpm``: 0 for none, towards 1 for clicks.

    The median over half-overlapping 8 s windows of grid contrast x attack sharpness x
    recurrence (module docstring); 0 when the audio is shorter than one window's two beats.
    """
    window = min(envelope.size, round(_EVIDENCE_WINDOW_SECONDS * frame_rate))
    tolerant = envelope.copy()
    tolerant[1:] = np.maximum(tolerant[1:], envelope[:-1])
    tolerant[:-1] = np.maximum(tolerant[:-1], envelope[1:])
    side = _ATTACK_SIDE_FRAMES
    lag_axis = np.arange(window)
    scores = []
    for start in range(0, envelope.size - window + 1, max(1, window // 2)):
        stretch = tolerant[start : start + window]
        mean = float(stretch.mean())
        correlation = _autocorrelation(envelope[start : start + window])
        best = 0.0
        for factor in np.exp(np.linspace(-_CLARITY_RANGE, _CLARITY_RANGE, _CLARITY_STEPS)):
            period = 60.0 * frame_rate / (bpm * factor)
            phases = int(np.ceil(period))
            points = int((window - phases - 2 * side - 1) // period) + 1
            if points < 2 or mean <= 0 or period >= window - 1:
                continue
            grid = (
                np.round(np.arange(phases)[:, None] + np.arange(points)[None, :] * period).astype(
                    np.int64
                )
                + side
            )
            on_grid = stretch[grid].mean(axis=1)
            phase = int(np.argmax(on_grid))
            peak = float(on_grid[phase])
            if peak <= 0:
                continue
            beside = float(stretch[grid[phase] - side].mean() + stretch[grid[phase] + side].mean())
            sharpness = max(0.0, 1.0 - beside / 2 / peak)
            # Lags beyond 60 % of the window rest on too few frame pairs to mean anything.
            lags = [
                period * k for k in range(1, _RECURRENCE_MULTIPLES + 1) if period * k < 0.6 * window
            ]
            if not lags:
                continue
            recurrence = max(0.0, float(np.interp(lags, lag_axis, correlation).max()))
            best = max(best, peak / mean * sharpness * recurrence)
        scores.append(best)
    return float(np.median(scores)) if scores else 0.0


def estimate_tempo(
    envelope: Float64Array,
    frame_rate: float,
    *,
    low_envelope: Float64Array | None = None,
    mid_envelope: Float64Array | None = None,
    body: Float64Array | None = None,
    attack: float | None = None,
    octave_guard: bool = True,
) -> TempoEstimate | None:
    """Global tempo candidate with its pulse clarity as confidence; None when the envelope
    is shorter than 4 s or carries no onsets at all. Compare the confidence with
    ``PULSE_THRESHOLD`` before believing the tempo. ``attack`` is ``attack_size`` of the flux
    behind ``envelope``; without it the clarity is not scaled by the size of the attacks.
    ``body`` (``body_envelope``) settles the octave; without it, or when it carries no onsets,
    the full-band envelope does."""
    if envelope.size < MIN_TEMPO_SECONDS * frame_rate or not np.any(envelope > 0):
        return None
    bpms, salience = tempo_salience(envelope, frame_rate)
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
    alternative: tuple[float, float] | None = None
    if octave_guard:
        bpm = choose_octave(bpm, envelope, low_envelope, frame_rate, mid_envelope)[0][0]
        beat_onsets = body if body is not None and np.any(body > 0) else envelope
        bpm, other = beat_octave(bpm, beat_onsets, frame_rate)
        alternative = None if other is None else (float(other[0]), float(other[1]))
    clarity = pulse_clarity(envelope, frame_rate, bpm)
    if attack is not None:
        clarity *= attack / (attack + _ATTACK_SCALE)
    return TempoEstimate(
        bpm=float(bpm),
        confidence=clarity / (clarity + _CLARITY_SCALE),
        alternative=alternative,
    )


def track_beats(
    envelope: Float64Array, frame_rate: float, bpm: float, tightness: float = _MIN_TIGHTNESS
) -> Float64Array:
    """Beat times in seconds from Ellis's dynamic-programming tracker at the given tempo."""
    period = 60.0 * frame_rate / bpm
    count = envelope.size
    if count == 0:
        return np.zeros(0)
    shortest = max(1, round(period / 2))
    longest = max(shortest, round(period * 2))
    offsets = np.arange(shortest, longest + 1)
    deviation = np.maximum(0.0, np.abs(offsets - period) - _QUANTISATION_FRAMES)
    penalty = -tightness * np.log((period + deviation) / period) ** 2
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
    """Meter (2-7 beats per bar) and the index of the first downbeat, or None if no bar phase
    stands out at all. Compare the confidence with ``METER_THRESHOLD`` before believing it."""
    strengths = low_envelope[np.clip(beat_frames, 0, low_envelope.size - 1)]
    best: tuple[int, int, float] | None = None
    best_contrast = 0.0
    for meter in _METERS:
        if strengths.size < 2 * meter:
            continue
        for phase in range(meter):
            on_bar = np.arange(strengths.size) % meter == phase
            contrast = float(strengths[on_bar].mean() - strengths[~on_bar].mean())
            if contrast > best_contrast:
                total = float(strengths[on_bar].mean() + strengths[~on_bar].mean())
                best_contrast = contrast
                best = (meter, phase, contrast / total if total > 0 else 0.0)
    if best is None:
        return None
    meter, phase, share = best
    bars = [
        strengths[start : start + meter]
        for start in range(phase, strengths.size - meter + 1, meter)
    ]
    regularity = float(np.mean([bar[0] >= bar[1:].max() for bar in bars])) if bars else 0.0
    return Downbeats(meter, phase, share * regularity)


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
