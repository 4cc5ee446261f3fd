"""Key estimation on a decimated mono copy of the signal.

Only the 11 025 Hz copy is kept in memory (a quarter of the 44.1 kHz mono signal). Essentia's
KeyExtractor runs on it with 1024-sample frames, the same time and frequency resolution as
its default 4096 samples at 44.1 kHz; its harmonic pitch-class profile stops at 3.5 kHz, well
inside the 5.5 kHz band the copy keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine._essentia import key_extractor
from engine.errors import EngineError

FloatArray = npt.NDArray[np.float32]

KEY_SAMPLE_RATE = 11025
KEY_FRAME_SIZE = 1024
# Chosen by measurement (bench/accuracy.py, docs/accuracy.md).
KEY_PROFILE = "bgate"
_DECIMATION = 4
_FILTER_TAPS = 129
_ENHARMONIC = {"A#": "Bb", "D#": "Eb", "G#": "Ab", "Db": "C#", "Gb": "F#"}


@dataclass(frozen=True)
class KeyEstimate:
    key: str
    scale: str
    strength: float


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


def estimate_key(
    samples: FloatArray, sample_rate: int = KEY_SAMPLE_RATE, profile: str = KEY_PROFILE
) -> KeyEstimate:
    if samples.size < KEY_FRAME_SIZE * 2 or not np.any(samples):
        raise EngineError("feature_failed", "The audio is too short or silent to estimate a key.")
    frame_size = KEY_FRAME_SIZE * sample_rate // KEY_SAMPLE_RATE
    key, scale, strength = key_extractor(samples, sample_rate, profile, frame_size)
    return KeyEstimate(key=normalise_key_name(key), scale=scale, strength=strength)
