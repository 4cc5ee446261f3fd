"""Key estimation on a decimated mono copy of the signal.

Only the 11 025 Hz copy is kept in memory (a quarter of the 44.1 kHz mono signal). Essentia's
KeyExtractor runs on it with 1024-sample frames, the same time and frequency resolution as
its default 4096 samples at 44.1 kHz; its harmonic pitch-class profile stops at 3.5 kHz, well
inside the 5.5 kHz band the copy keeps.

A key is only as real as the pitched content behind it: KeyExtractor correlates whatever
pitch-class profile it gets with a key profile, and white noise reads "C minor" with strength
0.68. So the reported strength is Essentia's profile correlation times the signal's
*tonalness*: the share of its 100-3500 Hz energy in spectral peaks that stand 10 dB above
the median of their ±60 Hz neighbourhood (sustained partials do, noise and drums do not).
Below ``KEY_THRESHOLD`` the key is reported absent (measured in docs/accuracy.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine._essentia import key_extractor

FloatArray = npt.NDArray[np.float32]

KEY_SAMPLE_RATE = 11025
KEY_FRAME_SIZE = 1024
# Chosen by measurement (bench/accuracy.py, docs/accuracy.md).
KEY_PROFILE = "bgate"
_DECIMATION = 4
_FILTER_TAPS = 129
# Chosen by measurement on labelled material (bench/accuracy.py, docs/accuracy.md).
KEY_THRESHOLD = 0.2
_TONAL_FRAME = 2048
_TONAL_BAND_HZ = (100.0, 3500.0)
_TONAL_PEAK_DB = 10.0
_TONAL_HALF_WIDTH = 11
_TONAL_CHUNK_FRAMES = 256
_ENHARMONIC = {"A#": "Bb", "D#": "Eb", "G#": "Ab", "Db": "C#", "Gb": "F#"}


@dataclass(frozen=True)
class KeyEstimate:
    """``key`` and ``scale`` are None when ``strength`` is below ``KEY_THRESHOLD``."""

    key: str | None
    scale: str | None
    strength: float
    # The profile's own key, kept for measuring the threshold; None in silence.
    candidate: tuple[str, str] | None = None


def _lowpass_taps() -> npt.NDArray[np.float64]:
    # Windowed-sinc low-pass at 90 % of the new Nyquist frequency keeps aliasing out of the
    # pitch range the key profile reads.
    cutoff = 0.9 / _DECIMATION
    n = np.arange(_FILTER_TAPS) - (_FILTER_TAPS - 1) / 2
    taps = cutoff * np.sinc(cutoff * n) * np.blackman(_FILTER_TAPS)
    return np.asarray(taps / taps.sum(), dtype=np.float64)


_TAPS = _lowpass_taps().astype(np.float32)


class Decimator:
    """Streams 44.1 kHz mono blocks into one 11.025 kHz array, filtering across block edges."""

    def __init__(self) -> None:
        self._history: FloatArray = np.zeros(_FILTER_TAPS - 1, dtype=np.float32)
        self._phase = 0
        self._parts: list[FloatArray] = []

    def push(self, mono: FloatArray) -> None:
        extended = np.concatenate([self._history, mono.astype(np.float32)])
        windows = np.lib.stride_tricks.sliding_window_view(extended, _FILTER_TAPS)
        # Only every fourth output survives decimation, so only those are computed.
        kept = windows[self._phase :: _DECIMATION] @ _TAPS[::-1]
        self._parts.append(kept.astype(np.float32))
        self._phase = (self._phase - windows.shape[0]) % _DECIMATION
        self._history = extended[-(_FILTER_TAPS - 1) :]

    def finish(self) -> FloatArray:
        if not self._parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self._parts)


def normalise_key_name(name: str) -> str:
    """Spell pitch classes one way: sharps for C#, F#; flats for Eb, Ab, Bb."""
    return _ENHARMONIC.get(name, name)


def tonalness(samples: FloatArray, sample_rate: int = KEY_SAMPLE_RATE) -> float:
    """Share (0-1) of the 100-3500 Hz energy in peaks 10 dB above their neighbourhood.

    Frames are taken without overlap and in chunks, so an hour of audio costs little memory.
    """
    size = _TONAL_FRAME * sample_rate // KEY_SAMPLE_RATE
    count = samples.size // size
    if count == 0:
        return 0.0
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    band = (freqs >= _TONAL_BAND_HZ[0]) & (freqs <= _TONAL_BAND_HZ[1])
    window = np.hanning(size).astype(np.float32)
    gain = 10.0 ** (_TONAL_PEAK_DB / 10.0)
    half = _TONAL_HALF_WIDTH
    peaked = total = 0.0
    for first in range(0, count, _TONAL_CHUNK_FRAMES):
        last = min(count, first + _TONAL_CHUNK_FRAMES)
        frames = samples[first * size : last * size].reshape(-1, size) * window
        power = np.abs(np.fft.rfft(frames, axis=1))[:, band] ** 2
        padded = np.pad(power, ((0, 0), (half, half)), mode="edge")
        neighbourhood = np.median(
            np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=1), axis=2
        )
        peaked += float(power[power > gain * neighbourhood].sum())
        total += float(power.sum())
    return peaked / total if total > 0 else 0.0


def estimate_key(
    samples: FloatArray, sample_rate: int = KEY_SAMPLE_RATE, profile: str = KEY_PROFILE
) -> KeyEstimate:
    """The key and its strength (profile correlation x tonalness); absent below the threshold,
    and with strength 0 in silence or under two frames of audio."""
    if samples.size < KEY_FRAME_SIZE * 2 or not np.any(samples):
        return KeyEstimate(key=None, scale=None, strength=0.0)
    frame_size = KEY_FRAME_SIZE * sample_rate // KEY_SAMPLE_RATE
    key, scale, correlation = key_extractor(samples, sample_rate, profile, frame_size)
    candidate = (normalise_key_name(key), scale)
    strength = float(np.clip(correlation, 0.0, 1.0)) * tonalness(samples, sample_rate)
    if strength < KEY_THRESHOLD:
        return KeyEstimate(key=None, scale=None, strength=strength, candidate=candidate)
    return KeyEstimate(key=candidate[0], scale=scale, strength=strength, candidate=candidate)
