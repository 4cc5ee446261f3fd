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
