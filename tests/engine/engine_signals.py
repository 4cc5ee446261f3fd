"""Signal generators with known truth and the beat F-measure (`tests.support.audio` encodes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SR = 44100
FloatArray = npt.NDArray[np.float32]


def sine(freq: float, seconds: float, amplitude: float, sample_rate: int = SR) -> FloatArray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def click_track(
    bpm: float, seconds: float, *, offset: float = 0.5
) -> tuple[FloatArray, list[float]]:
    """Broadband decaying noise bursts on every beat; returns the signal and the beat times."""
    rng = np.random.default_rng(int(bpm))
    signal = np.zeros(int(seconds * SR), dtype=np.float32)
    length = int(0.03 * SR)
    burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.005 * SR))
    thump = np.sin(2 * np.pi * 80 * np.arange(length) / SR) * np.exp(
        -np.arange(length) / (0.01 * SR)
    )
    beats = list(np.arange(offset, seconds - 0.1, 60.0 / bpm))
    for t in beats:
        start = round(t * SR)
        end = min(start + length, signal.size)
        signal[start:end] += (0.4 * burst + 0.5 * thump)[: end - start].astype(np.float32)
    return signal, [float(b) for b in beats]


def click_ramp(start_bpm: float, end_bpm: float, seconds: float) -> tuple[FloatArray, list[float]]:
    """Clicks whose tempo changes linearly from ``start_bpm`` to ``end_bpm``; signal and beats."""
    signal = np.zeros(int(seconds * SR), dtype=np.float32)
    length = int(0.03 * SR)
    n = np.arange(length)
    click = (np.sin(2 * np.pi * 80 * n / SR) * np.exp(-n / (0.01 * SR))).astype(np.float32)
    beats: list[float] = []
    t = 0.5
    while t < seconds - 0.1:
        beats.append(t)
        start = round(t * SR)
        end = min(start + length, signal.size)
        signal[start:end] += 0.5 * click[: end - start]
        t += 60.0 / (start_bpm + (end_bpm - start_bpm) * t / seconds)
    return signal, beats


def drum_pattern(
    bpm: float, seconds: float, *, offset: float = 0.3
) -> tuple[FloatArray, list[float]]:
    """Kick on every beat, snare on 2 and 4, hi-hat on eighth notes; returns signal and beats."""
    rng = np.random.default_rng(int(bpm) + 7)
    signal = np.zeros(int(seconds * SR), dtype=np.float32)
    beat = 60.0 / bpm
    n = np.arange(int(0.25 * SR))
    kick = np.sin(2 * np.pi * (50 + 60 * np.exp(-n / (0.02 * SR))) * n / SR) * np.exp(
        -n / (0.06 * SR)
    )
    snare = rng.standard_normal(n.size) * np.exp(-n / (0.04 * SR))
    hat_noise = rng.standard_normal(n.size)
    hat = np.diff(hat_noise, prepend=0.0) * np.exp(-n / (0.01 * SR))

    def place(sound: npt.NDArray[np.float64], t: float, gain: float) -> None:
        start = round(t * SR)
        end = min(start + sound.size, signal.size)
        if start < signal.size:
            signal[start:end] += (gain * sound[: end - start]).astype(np.float32)

    beats = [float(b) for b in np.arange(offset, seconds - 0.1, beat)]
    for index, t in enumerate(beats):
        place(kick, t, 0.6)
        if index % 2 == 1:
            place(snare, t, 0.25)
        place(hat, t, 0.08)
        place(hat, t + beat / 2, 0.08)
    return signal, [float(b) for b in beats]


_NOTE = {
    "C": 0,
    "C#": 1,
    "D": 2,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "G": 7,
    "Ab": 8,
    "A": 9,
    "Bb": 10,
    "B": 11,
}


def chord_progression(
    chords: Sequence[Sequence[str]], seconds_per_chord: float = 2.0
) -> FloatArray:
    """Additive-synth chords (six decaying harmonics per note) with the root doubled below."""
    pieces = []
    t = np.arange(int(seconds_per_chord * SR)) / SR
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t / 1.5)
    for chord in chords:
        mix = np.zeros_like(t)
        for position, name in enumerate(chord):
            midi = 60 + _NOTE[name] if position else 48 + _NOTE[name]
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            for harmonic in range(1, 7):
                mix += np.sin(2 * np.pi * f0 * harmonic * t) / harmonic
        pieces.append(mix * envelope)
    signal = np.concatenate(pieces)
    return np.asarray(0.3 * signal / np.abs(signal).max(), dtype=np.float32)


def f_measure(
    estimated: Sequence[float], reference: Sequence[float], tolerance: float = 0.07
) -> float:
    """Beat F-measure: one-to-one matches within ``tolerance`` seconds (MIREX convention)."""
    if not estimated or not reference:
        return 0.0
    used: set[int] = set()
    hits = 0
    for ref in reference:
        best: tuple[float, int] | None = None
        for index, est in enumerate(estimated):
            distance = abs(est - ref)
            if index not in used and distance <= tolerance and (best is None or distance < best[0]):
                best = (distance, index)
        if best is not None:
            used.add(best[1])
            hits += 1
    if hits == 0:
        return 0.0
    precision = hits / len(estimated)
    recall = hits / len(reference)
    return 2 * precision * recall / (precision + recall)


def _tone(freq: float, samples: int, harmonics: int = 6) -> npt.NDArray[np.float64]:
    t = np.arange(samples) / SR
    return sum(
        (np.sin(2 * np.pi * freq * h * t) / h for h in range(1, harmonics + 1)),
        np.zeros_like(t),
    )


def _midi_hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _normalised(signal: npt.NDArray[np.float64], peak: float = 0.3) -> FloatArray:
    top = float(np.abs(signal).max())
    return np.asarray(signal * (peak / top if top > 0 else 1.0), dtype=np.float32)


# Beatless material: every generator below has no regular pulse by construction.


def pad(chord: Sequence[str], seconds: float, *, swell_seconds: float = 6.0) -> FloatArray:
    """A sustained chord that fades in and out over ``swell_seconds``: no attacks at all."""
    t = np.arange(int(seconds * SR)) / SR
    mix = sum((_tone(_midi_hz(60 + _NOTE[name]), t.size) for name in chord), np.zeros_like(t))
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / swell_seconds - np.pi / 2)
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 1.5)
    return _normalised(mix * swell * fade)


def tremolo_chord(chord: Sequence[str], seconds: float, rate_hz: float) -> FloatArray:
    """A sustained chord under smooth sinusoidal amplitude modulation at ``rate_hz``."""
    t = np.arange(int(seconds * SR)) / SR
    mix = sum((_tone(_midi_hz(60 + _NOTE[name]), t.size) for name in chord), np.zeros_like(t))
    return _normalised(mix * (0.65 + 0.35 * np.sin(2 * np.pi * rate_hz * t)))


def drone(root: str, seconds: float, *, seed: int = 0) -> FloatArray:
    """Root and fifth two octaves down with slow random vibrato, as a tanpura-less drone."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    wobble = np.cumsum(rng.standard_normal(n)) / np.sqrt(SR) * 0.3
    wobble -= np.linspace(wobble[0], wobble[-1], n)
    mix = np.zeros(n)
    for midi in (36 + _NOTE[root], 43 + _NOTE[root], 48 + _NOTE[root]):
        f0 = _midi_hz(midi)
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.002 * wobble)) / SR
        mix += sum(np.sin(h * phase) / h for h in range(1, 9))
    return _normalised(mix)


def white_noise(seconds: float, *, seed: int = 0) -> FloatArray:
    return _normalised(np.random.default_rng(seed).standard_normal(int(seconds * SR)))


def pink_noise(seconds: float, *, seed: int = 0) -> FloatArray:
    """Noise with a 1/f power spectrum, shaped in the frequency domain."""
    n = int(seconds * SR)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SR)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    return _normalised(np.fft.irfft(spectrum, n))


def speech_bursts(seconds: float, *, seed: int = 0) -> FloatArray:
    """Syllable-like bursts: a jittered glottal pulse train through two formant resonators,
    with syllable lengths and pauses drawn at random, as unpulsed as speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    t = rng.uniform(0.05, 0.3)
    while t < seconds - 0.4:
        length = rng.uniform(0.08, 0.35)
        count = int(length * SR)
        f0 = rng.uniform(100, 220) * np.linspace(1.0, rng.uniform(0.8, 1.2), count)
        phase = np.cumsum(f0 / SR)
        source = np.diff(np.floor(phase), prepend=0.0)
        voiced = np.zeros(count)
        for formant, width in ((rng.uniform(300, 900), 80.0), (rng.uniform(900, 2500), 120.0)):
            radius = np.exp(-np.pi * width / SR)
            theta = 2 * np.pi * formant / SR
            y1 = y2 = 0.0
            resonated = np.empty(count)
            for i in range(count):
                y = source[i] + 2 * radius * np.cos(theta) * y1 - radius**2 * y2
                resonated[i] = y
                y1, y2 = y, y1
            voiced += resonated
        ramp = np.minimum(1.0, np.minimum(np.arange(count), count - np.arange(count)) / (0.02 * SR))
        start = int(t * SR)
        out[start : start + count] += voiced * ramp * rng.uniform(0.4, 1.0)
        t += length + rng.exponential(0.18) + (rng.uniform(0.3, 0.8) if rng.random() < 0.2 else 0)
    return _normalised(out)


def rubato_line(seconds: float, *, seed: int = 0) -> FloatArray:
    """A piano-like melodic line whose note lengths vary freely (no steady beat)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    scale = (0, 2, 4, 5, 7, 9, 11, 12)
    t = 0.2
    while t < seconds - 0.5:
        midi = 60 + scale[int(rng.integers(len(scale)))]
        length = int(min(2.0, seconds - t) * SR)
        k = np.arange(length) / SR
        note = _tone(_midi_hz(midi), length) * np.exp(-k / 0.7) * np.minimum(1.0, k / 0.005)
        start = int(t * SR)
        out[start : start + length] += note[: n - start]
        t += float(np.exp(rng.normal(np.log(0.45), 0.55)))
    return _normalised(out)


# Pulsed material with a known meter: the downbeat is marked by a bass note and a louder kick.

GROUPINGS: dict[str, tuple[int, ...]] = {
    "2/4": (2,),
    "3/4": (3,),
    "4/4": (4,),
    "6/8": (3, 3),
    "7/8": (2, 2, 3),
}


def metered_pattern(
    bpm: float,
    seconds: float,
    meter: str,
    *,
    swing: float = 0.0,
    syncopation: bool = False,
    offset: float = 0.25,
) -> tuple[FloatArray, list[float], list[float]]:
    """Drums and bass in ``meter`` (a key of GROUPINGS) with the beat at ``bpm``.

    The beat is the counted unit: quarter notes in 2/4, 3/4 and 4/4, eighth notes in 6/8 and
    7/8. Each bar opens with a bass note and an accented kick; each group opens with a kick;
    hats fall on every beat and (with ``swing``, delayed by that fraction of a beat) between
    beats; ``syncopation`` adds an off-beat kick before the last group. Returns the signal,
    the beat times and the downbeat times.
    """
    rng = np.random.default_rng(int(bpm) * 31 + len(meter))
    signal = np.zeros(int(seconds * SR))
    beat = 60.0 / bpm
    n = np.arange(int(0.3 * SR))
    kick = np.sin(2 * np.pi * (50 + 60 * np.exp(-n / (0.02 * SR))) * n / SR) * np.exp(
        -n / (0.06 * SR)
    )
    hat = np.diff(rng.standard_normal(n.size), prepend=0.0) * np.exp(-n / (0.01 * SR))
    snare = rng.standard_normal(n.size) * np.exp(-n / (0.04 * SR))
    bass = sum(np.sin(2 * np.pi * 55.0 * h * n / SR) / h for h in range(1, 4)) * np.exp(
        -n / (0.15 * SR)
    )

    def place(sound: npt.NDArray[np.float64], t: float, gain: float) -> None:
        start = round(t * SR)
        if start < signal.size:
            end = min(start + sound.size, signal.size)
            signal[start:end] += gain * sound[: end - start]

    groups = GROUPINGS[meter]
    per_bar = sum(groups)
    group_starts = set(np.cumsum((0, *groups[:-1])).tolist())
    beats = [float(b) for b in np.arange(offset, seconds - 0.1, beat)]
    downbeats = []
    for index, t in enumerate(beats):
        position = index % per_bar
        if position == 0:
            downbeats.append(t)
            place(bass, t, 0.5)
            place(kick, t, 0.7)
        elif position in group_starts:
            place(kick, t, 0.45)
        elif per_bar in (2, 4) and position % 2 == 1:
            place(snare, t, 0.2)
        place(hat, t, 0.08)
        place(hat, t + beat * (0.5 + swing), 0.05)
        if syncopation and position == per_bar - 2:
            place(kick, t + beat / 2, 0.35)
    return _normalised(signal, 0.5), beats, downbeats


def steady_chords(bpm: float, seconds: float, chords: Sequence[Sequence[str]]) -> FloatArray:
    """Piano-like chords struck on every beat, a new chord each bar of four: pulse, no drums."""
    beat = 60.0 / bpm
    n = int(seconds * SR)
    out = np.zeros(n)
    length = int(min(beat * 1.5, 2.0) * SR)
    k = np.arange(length) / SR
    shape = np.exp(-k / 0.4) * np.minimum(1.0, k / 0.004)
    for index, t in enumerate(np.arange(0.2, seconds - 0.1, beat)):
        chord = chords[(index // 4) % len(chords)]
        note = sum((_tone(_midi_hz(60 + _NOTE[name]), length) for name in chord), np.zeros(length))
        start = int(t * SR)
        out[start : start + length] += (note * shape * (1.0 if index % 4 == 0 else 0.7))[
            : n - start
        ]
    return _normalised(out)
