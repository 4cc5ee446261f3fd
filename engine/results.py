"""Frozen result types and their JSON form (``AnalysisResult.to_dict``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# 2: absent properties are null with a reason in ``absent``; ``tempo.alternatives`` added.
SCHEMA_VERSION = 2

# Why a property is absent (``AnalysisResult.absent``), stable codes for integrators.
NO_REGULAR_PULSE = "no_regular_pulse"
NO_TONAL_CONTENT = "no_tonal_content"
METER_UNCLEAR = "meter_unclear"
TOO_SHORT = "too_short"
SILENCE = "silence"


def _round(value: float, digits: int) -> float | None:
    """Round for JSON; non-finite values (silence in dB, undefined centroid) become null."""
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def _rounded_list(values: npt.ArrayLike, digits: int) -> list[Any]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim > 1:
        return [_rounded_list(row, digits) for row in array]
    finite = np.isfinite(array)
    rounded = np.round(np.where(finite, array, 0.0), digits).tolist()
    return [value if ok else None for value, ok in zip(rounded, finite.tolist(), strict=True)]


@dataclass(frozen=True)
class TempoAlternative:
    bpm: float
    # Share of the octave evidence this candidate holds against the reported tempo (0-0.5).
    weight: float


@dataclass(frozen=True)
class Tempo:
    """The pulse; ``bpm`` is None (and beats, downbeats, meter empty) when there is none."""

    bpm: float | None
    confidence: float
    beats: tuple[float, ...]
    beat_strengths: tuple[float, ...]
    beats_per_bar: int | None
    meter_confidence: float | None
    downbeats: tuple[float, ...]
    tatums_per_beat: int | None
    alternatives: tuple[TempoAlternative, ...] = ()


@dataclass(frozen=True)
class Key:
    """The key; ``key`` and ``scale`` are None when the audio has no tonal content."""

    key: str | None
    scale: str | None
    strength: float


@dataclass(frozen=True)
class Loudness:
    """EBU R128 loudness; a value is None when silence or shortness leaves nothing to measure."""

    integrated_lufs: float | None
    range_lu: float | None
    true_peak_dbtp: float | None
    # Loudness peaks: (time in s, momentary LUFS, strength 0..1).
    peaks: tuple[tuple[float, float, float], ...] = field(default=())


@dataclass(frozen=True)
class Onset:
    t: float
    strength: float


@dataclass(frozen=True)
class SectionSpan:
    start: float
    end: float
    novelty: float | None
    # The section's own key, by the same estimator as the track's key on the section's audio;
    # None when the key feature was not requested.
    key: Key | None = None


@dataclass(frozen=True)
class Timeline:
    frame_rate: float
    rms: npt.NDArray[np.float32]
    spectral_centroid: npt.NDArray[np.float32]
    spectral_flux: npt.NDArray[np.float32]
    chroma: npt.NDArray[np.float32]
    band_names: tuple[str, ...]
    bands: npt.NDArray[np.float32]
    mfcc: npt.NDArray[np.float32]
    loudness_momentary: npt.NDArray[np.float64] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame_rate": round(self.frame_rate, 6),
            "rms": _rounded_list(self.rms, 5),
            "spectral_centroid": _rounded_list(self.spectral_centroid, 1),
            "spectral_flux": _rounded_list(self.spectral_flux, 3),
            "chroma": _rounded_list(self.chroma, 3),
            "bands": {"names": list(self.band_names), "values": _rounded_list(self.bands, 5)},
            "mfcc": _rounded_list(self.mfcc, 3),
            "loudness_momentary": (
                None
                if self.loudness_momentary is None
                else _rounded_list(self.loudness_momentary, 2)
            ),
        }


@dataclass(frozen=True)
class Waveform:
    points_per_second: int
    minimum: npt.NDArray[np.float32]
    maximum: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Event:
    t: float
    type: str
    strength: float


@dataclass(frozen=True)
class AnalysisResult:
    duration: float
    sample_rate: int
    channels: int
    engine_version: str
    essentia_version: str
    features: tuple[str, ...]
    tempo: Tempo | None = None
    key: Key | None = None
    loudness: Loudness | None = None
    onsets: tuple[Onset, ...] | None = None
    sections: tuple[SectionSpan, ...] | None = None
    timeline: Timeline | None = None
    waveform: Waveform | None = None
    events: tuple[Event, ...] = ()
    # Property name -> reason code for every requested property the audio does not have.
    absent: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "engine_version": self.engine_version,
            "essentia_version": self.essentia_version,
            "duration": round(self.duration, 3),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
        }
        if self.tempo is not None:
            data["tempo"] = {
                "bpm": _optional(self.tempo.bpm, 2),
                "confidence": round(self.tempo.confidence, 3),
                "alternatives": [
                    {"bpm": round(a.bpm, 2), "weight": round(a.weight, 3)}
                    for a in self.tempo.alternatives
                ],
                "beats_per_bar": self.tempo.beats_per_bar,
                "meter_confidence": (
                    None
                    if self.tempo.meter_confidence is None
                    else round(self.tempo.meter_confidence, 3)
                ),
                "tatums_per_beat": self.tempo.tatums_per_beat,
            }
            data["beats"] = _rounded_list(self.tempo.beats, 3)
            data["downbeats"] = _rounded_list(self.tempo.downbeats, 3)
        if self.key is not None:
            data["key"] = {
                "key": self.key.key,
                "scale": self.key.scale,
                "strength": round(self.key.strength, 3),
            }
        if self.loudness is not None:
            data["loudness"] = {
                "integrated_lufs": _optional(self.loudness.integrated_lufs, 2),
                "range_lu": _optional(self.loudness.range_lu, 2),
                "true_peak_dbtp": _optional(self.loudness.true_peak_dbtp, 2),
            }
        if self.onsets is not None:
            data["onsets"] = [
                {"t": round(o.t, 3), "strength": round(o.strength, 3)} for o in self.onsets
            ]
        if self.sections is not None:
            data["sections"] = [_section_dict(s) for s in self.sections]
        if self.timeline is not None:
            data["timeline"] = self.timeline.to_dict()
        if self.waveform is not None:
            data["waveform"] = {
                "points_per_second": self.waveform.points_per_second,
                "min": _rounded_list(self.waveform.minimum, 4),
                "max": _rounded_list(self.waveform.maximum, 4),
            }
        data["events"] = [
            {"t": round(e.t, 3), "type": e.type, "strength": round(e.strength, 3)}
            for e in self.events
        ]
        data["absent"] = dict(sorted(self.absent.items()))
        return data


def _optional(value: float | None, digits: int) -> float | None:
    return None if value is None else _round(value, digits)


def _section_dict(section: SectionSpan) -> dict[str, Any]:
    data: dict[str, Any] = {"start": round(section.start, 3), "end": round(section.end, 3)}
    if section.key is not None:
        data["key"] = section.key.key
        data["scale"] = section.key.scale
        data["key_strength"] = round(section.key.strength, 3)
    return data
