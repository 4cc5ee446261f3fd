"""A backing track with known parts (chords, a bass line, drums) to mix with a real voice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SR = 44100
F32 = npt.NDArray[np.float32]

_BEAT = 0.5  # seconds: 120 beats per minute
# C, A minor, F, G: two bars of each, as MIDI notes (bass root, then the triad).
_PROGRESSION = ((36, (60, 64, 67)), (33, (57, 60, 64)), (29, (53, 57, 60)), (31, (55, 59, 62)))


@dataclass(frozen=True)
class Backing:
    """Stereo parts, each (n, 2) float32."""

    chords: F32
    bass: F32
    drums: F32

    @property
    def total(self) -> F32:
        return self.chords + self.bass + self.drums


def _hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _tone(freq: float, seconds: float, harmonics: int, rng: np.random.Generator) -> F32:
    t = np.arange(int(seconds * SR)) / SR
    phase = rng.uniform(0, 2 * np.pi)
    wave = sum(
        np.sin(2 * np.pi * freq * k * t + phase * k) / k**1.5 for k in range(1, harmonics + 1)
    )
    attack = np.minimum(1.0, t / 0.02)
    release = np.minimum(1.0, (seconds - t) / 0.05)
    shaped: F32 = (wave * attack * release).astype(np.float32)
    return shaped


def _kick(seconds: float = 0.3) -> F32:
    t = np.arange(int(seconds * SR)) / SR
    freq = 50 + 100 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    kick: F32 = (np.sin(phase) * np.exp(-t / 0.12)).astype(np.float32)
    return kick


def _noise_hit(rng: np.random.Generator, seconds: float, decay: float, highpass: bool) -> F32:
    noise = rng.standard_normal(int(seconds * SR))
    if highpass:
        noise = np.diff(noise, prepend=0.0)
    t = np.arange(len(noise)) / SR
    hit: F32 = (noise * np.exp(-t / decay)).astype(np.float32)
    return hit


def _place(track: F32, hit: F32, at: float, gain: float) -> None:
    start = int(at * SR)
    end = min(len(track), start + len(hit))
    if start < end:
        track[start:end] += gain * hit[: end - start]


def _stereo(mono: F32, pan: float) -> F32:
    """Constant-power pan, -1 (left) to 1 (right)."""
    angle = (pan + 1) * np.pi / 4
    return np.stack([mono * np.cos(angle), mono * np.sin(angle)], axis=1).astype(np.float32)


def backing(seconds: float, *, seed: int = 7) -> Backing:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    chords = np.zeros(n, np.float32)
    bass = np.zeros(n, np.float32)
    drums_left = np.zeros(n, np.float32)
    drums_right = np.zeros(n, np.float32)
    bar = 4 * _BEAT
    for index in range(int(np.ceil(seconds / (2 * bar)))):
        root, triad = _PROGRESSION[index % len(_PROGRESSION)]
        start = index * 2 * bar
        for note in triad:
            _place(chords, _tone(_hz(note), 2 * bar, 6, rng), start, 0.12)
        for eighth in range(16):
            note = root + (12 if eighth % 4 == 3 else 0)
            tone = _tone(_hz(note), _BEAT / 2 * 0.9, 3, rng)
            _place(bass, tone, start + eighth * _BEAT / 2, 0.35)
    for beat in range(int(seconds / _BEAT)):
        at = beat * _BEAT
        if beat % 2 == 0:
            _place(drums_left, _kick(), at, 0.6)
            _place(drums_right, _kick(), at, 0.6)
        else:
            snare = _noise_hit(rng, 0.2, 0.05, highpass=False)
            _place(drums_left, snare, at, 0.25)
            _place(drums_right, snare, at, 0.25)
        for half in (0.0, _BEAT / 2):
            _place(drums_right, _noise_hit(rng, 0.08, 0.015, highpass=True), at + half, 0.08)
    return Backing(
        chords=_stereo(chords, -0.3),
        bass=_stereo(bass, 0.0),
        drums=np.stack([drums_left, drums_right], axis=1).astype(np.float32),
    )


def sdr(reference: F32, estimate: F32) -> float:
    """Signal-to-distortion ratio in dB (plain energy ratio, no allowed distortion filter)."""
    error = reference.astype(np.float64) - estimate.astype(np.float64)
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum(error**2)))


def rms(signal: F32) -> float:
    return float(np.sqrt(np.mean(signal.astype(np.float64) ** 2)))
