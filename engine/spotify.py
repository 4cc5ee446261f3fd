"""A Spotify "Audio Analysis"-shaped view of an :class:`AnalysisResult`.

Every value is derived from the measured result (see ``docs/audio-analysis.md``):

* ``beats``: the tracked beats; ``duration`` is the gap to the next beat (the last beat
  reuses the median gap); ``confidence`` is the beat's low-band onset strength (0-1).
* ``bars``: spans between estimated downbeats; confidence is the meter confidence.
* ``tatums``: each beat split into ``tatums_per_beat`` equal parts; confidence is inherited
  from the beat.
* ``sections``: the structural sections; ``confidence`` is the boundary novelty (null for
  the first section, which has no boundary before it). ``loudness`` is the mean momentary loudness
  (LUFS) inside; ``tempo`` is 60 / median inter-beat interval inside (confidence: the global
  tempo confidence); ``key``/``mode`` are the section's own key, estimated like the track's
  key on the section's audio (confidence: its strength, used for both; -1 and 0 for a silent
  section, as Spotify marks "no key detected"); ``time_signature`` is the estimated meter.
* ``segments``: onset to next onset. Loudness values are frame RMS in dBFS (start, max, time of
  max relative to the segment start, end); ``pitches`` is the mean chroma scaled so its
  largest bin is 1; ``timbre`` is the mean of MFCC 0-11 (coefficient 0 is log energy, like
  Spotify's first timbre dimension; the others describe spectral shape); ``confidence`` is
  the onset strength.
* ``track``: duration, loudness (integrated LUFS), tempo, key, mode and time signature with
  their confidences.

Key indices follow Spotify: 0 = C ... 11 = B; mode 1 = major, 0 = minor.

Absence follows Spotify's own conventions: no pulse is tempo 0 with confidence 0 and no beats,
bars or tatums; no key is key -1 and mode -1 with confidence 0. An unclear meter has no bars
and a null time signature with its measured confidence; silence has a null loudness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from engine.errors import EngineError
from engine.frames import PITCH_CLASSES
from engine.results import AnalysisResult, Key, Tempo, Timeline

_REQUIRED = ("tempo", "key", "loudness", "onsets", "sections", "timeline")


def _spans(starts: list[float], end: float, confidences: list[float]) -> list[dict[str, float]]:
    spans = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else end
        if stop > start:
            spans.append(
                {
                    "start": round(start, 5),
                    "duration": round(stop - start, 5),
                    "confidence": round(confidences[index], 3),
                }
            )
    return spans


def _rms_db(timeline: Timeline) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(timeline.rms.astype(np.float64))


def _frame_range(timeline: Timeline, start: float, end: float) -> slice:
    first = round(start * timeline.frame_rate)
    last = max(first + 1, round(end * timeline.frame_rate))
    return slice(min(first, timeline.rms.size - 1), min(last, timeline.rms.size))


def _finite(value: float) -> float | None:
    return round(float(value), 3) if np.isfinite(value) else None


def _key_fields(key: Key | None) -> dict[str, Any]:
    if key is None or key.key is None:
        return {"key": -1, "key_confidence": 0.0, "mode": -1, "mode_confidence": 0.0}
    strength = round(key.strength, 3)
    return {
        "key": PITCH_CLASSES.index(key.key),
        "key_confidence": strength,
        "mode": 1 if key.scale == "major" else 0,
        "mode_confidence": strength,
    }


def _tempo_fields(bpm: float | None, confidence: float) -> dict[str, float]:
    if bpm is None:
        return {"tempo": 0.0, "tempo_confidence": 0.0}
    return {"tempo": round(bpm, 3), "tempo_confidence": round(confidence, 3)}


def _beats(tempo: Tempo, duration: float) -> tuple[list[float], float]:
    beats = list(tempo.beats)
    gap = float(np.median(np.diff(beats))) if len(beats) > 1 else duration
    return beats, gap


def to_audio_analysis(result: AnalysisResult) -> dict[str, Any]:
    missing = [name for name in _REQUIRED if getattr(result, name) is None]
    if missing:
        raise EngineError(
            "feature_failed",
            f"The audio-analysis view needs the features {', '.join(missing)} as well.",
        )
    tempo, key, loudness = result.tempo, result.key, result.loudness
    onsets, sections, timeline = result.onsets, result.sections, result.timeline
    if (
        tempo is None
        or key is None
        or loudness is None
        or onsets is None
        or sections is None
        or timeline is None
    ):
        raise EngineError("feature_failed", "The audio-analysis view is missing a feature.")

    beats, gap = _beats(tempo, result.duration)
    beat_end = min(result.duration, beats[-1] + gap) if beats else result.duration
    strengths = list(tempo.beat_strengths)
    meter_confidence = tempo.meter_confidence or 0.0
    bars = _spans(list(tempo.downbeats), beat_end, [meter_confidence] * len(tempo.downbeats))
    tatums: list[dict[str, float]] = []
    parts = tempo.tatums_per_beat or 1
    for index, beat in enumerate(beats):
        stop = beats[index + 1] if index + 1 < len(beats) else beat_end
        for part in range(parts):
            tatums.append(
                {
                    "start": round(beat + (stop - beat) * part / parts, 5),
                    "duration": round((stop - beat) / parts, 5),
                    "confidence": round(strengths[index], 3),
                }
            )

    momentary = timeline.loudness_momentary
    section_views = []
    for section in sections:
        frames = _frame_range(timeline, section.start, section.end)
        inside = [b for b in beats if section.start <= b < section.end]
        section_tempo = 60.0 / float(np.median(np.diff(inside))) if len(inside) > 2 else tempo.bpm
        loud = momentary[frames] if momentary is not None else np.array([np.nan])
        loud = loud[np.isfinite(loud)]
        section_views.append(
            {
                "start": round(section.start, 5),
                "duration": round(section.end - section.start, 5),
                "confidence": None if section.novelty is None else round(section.novelty, 3),
                "loudness": _finite(float(loud.mean())) if loud.size else None,
                **_tempo_fields(section_tempo, tempo.confidence),
                **_key_fields(section.key),
                "time_signature": tempo.beats_per_bar,
                "time_signature_confidence": round(meter_confidence, 3),
            }
        )

    rms_db = _rms_db(timeline)
    onset_times = [o.t for o in onsets]
    segments = []
    for index, onset in enumerate(onsets):
        end = onset_times[index + 1] if index + 1 < len(onsets) else result.duration
        frames = _frame_range(timeline, onset.t, end)
        levels = rms_db[frames]
        loudest = int(np.argmax(levels))
        chroma_mean = timeline.chroma[frames].mean(axis=0)
        peak = float(chroma_mean.max())
        pitches = chroma_mean / peak if peak > 0 else chroma_mean
        segments.append(
            {
                "start": round(onset.t, 5),
                "duration": round(end - onset.t, 5),
                "confidence": round(onset.strength, 3),
                "loudness_start": _finite(levels[0]),
                "loudness_max": _finite(levels[loudest]),
                "loudness_max_time": round(loudest / timeline.frame_rate, 5),
                "loudness_end": _finite(levels[-1]),
                "pitches": [round(float(v), 3) for v in pitches],
                "timbre": [round(float(v), 3) for v in timeline.mfcc[frames, :12].mean(axis=0)],
            }
        )

    return {
        "track": {
            "duration": round(result.duration, 5),
            "sample_rate": result.sample_rate,
            "channels": result.channels,
            "loudness": (
                None if loudness.integrated_lufs is None else round(loudness.integrated_lufs, 3)
            ),
            **_tempo_fields(tempo.bpm, tempo.confidence),
            "time_signature": tempo.beats_per_bar,
            "time_signature_confidence": round(meter_confidence, 3),
            **_key_fields(key),
        },
        "bars": bars,
        "beats": _spans(beats, beat_end, strengths),
        "tatums": tatums,
        "sections": section_views,
        "segments": segments,
    }
