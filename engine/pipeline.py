"""``analyze``: one streamed decode feeding every requested descriptor.

Decoded 10 s blocks (44.1 kHz, the file's own channel count up to stereo) go to the frame
analyser (mono mix), the loudness meter and waveform builder (all channels) and the key
decimator (mono at 11.025 kHz). Nothing else of the signal is kept, so memory grows with the
frame-rate descriptors, not with the sample count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine import frames as frame_features
from engine import loudness as loudness_meter
from engine import rhythm, structure, tonal
from engine._essentia import essentia_version
from engine.decode import iter_pcm_blocks, probe_audio, sniff_audio_format
from engine.errors import EngineError
from engine.features import ENGINE_VERSION, validate_features
from engine.results import (
    METER_UNCLEAR,
    NO_REGULAR_PULSE,
    NO_TONAL_CONTENT,
    SILENCE,
    TOO_SHORT,
    AnalysisResult,
    Event,
    Key,
    Loudness,
    Onset,
    SectionSpan,
    Tempo,
    TempoAlternative,
    Timeline,
    Waveform,
)
from engine.waveform import WaveformBuilder

ProgressCallback = Callable[[str, int], None]

_FRAME_FEATURES = frozenset({"tempo", "onsets", "sections", "timeline"})
_SNIFF_BYTES = 64
_LOUDNESS_PEAK_WINDOW_SECONDS = 4.0
_LOUDNESS_PEAK_MIN_LU = 3.0


def _sniff(path: str | os.PathLike[str]) -> str:
    with Path(path).open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    detected = sniff_audio_format(head)
    if detected is None:
        raise EngineError(
            "unsupported_audio",
            "The file is not in a supported audio format (WAV, MP3, FLAC, Ogg, M4A, AAC, AIFF).",
        )
    return detected


def analyze(
    path: str | os.PathLike[str],
    features: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    *,
    input_format: str | None = None,
    timeout: float | None = None,
) -> AnalysisResult:
    """Analyse an audio file; only the requested ``features`` are computed.

    A property the audio does not have (no pulse, no tonal content, silence, too short for
    sections) is returned as absent, with its reason in ``AnalysisResult.absent``; only audio
    that cannot be decoded or is out of bounds raises ``EngineError``. ``timeout`` bounds the
    wall-clock time of the decoding child process.
    """
    wanted = validate_features(features)

    def report(stage: str, percent: int) -> None:
        if progress is not None:
            progress(stage, max(0, min(100, percent)))

    container = input_format if input_format is not None else _sniff(path)
    report("probing", 0)
    probe = probe_audio(path, input_format=container)
    channels = min(probe.channels, 2)
    sample_rate = frame_features.SAMPLE_RATE

    frame_analyzer = (
        frame_features.FrameAnalyzer(with_spectral=bool({"sections", "timeline"} & set(wanted)))
        if _FRAME_FEATURES & set(wanted) or "loudness" in wanted
        else None
    )
    meter = loudness_meter.LoudnessMeter(sample_rate, channels) if "loudness" in wanted else None
    decimator = tonal.Decimator() if "key" in wanted else None
    peaks = WaveformBuilder(sample_rate) if "waveform" in wanted else None

    expected = max(probe.duration * sample_rate, 1.0)
    decoded = 0
    for block in iter_pcm_blocks(
        path, input_format=container, sample_rate=sample_rate, channels=channels, timeout=timeout
    ):
        mono = block.mean(axis=1, dtype=np.float32) if channels > 1 else block[:, 0]
        if frame_analyzer is not None:
            frame_analyzer.push(mono)
        if meter is not None:
            meter.push(block)
        if decimator is not None:
            decimator.push(mono)
        if peaks is not None:
            peaks.push(block)
        decoded += block.shape[0]
        report("decoding", int(80 * min(decoded / expected, 1.0)))
    if decoded == 0:
        raise EngineError("undecodable_audio", "The file contains no decodable audio.")
    duration = decoded / sample_rate

    try:
        result = _describe(wanted, duration, frame_analyzer, meter, decimator, peaks, report)
    except RuntimeError as error:
        # Essentia reports failures of its C++ algorithms as RuntimeError.
        raise EngineError("feature_failed", f"An audio descriptor failed: {error}") from error
    report("done", 100)
    return AnalysisResult(
        duration=duration,
        sample_rate=probe.sample_rate,
        channels=probe.channels,
        engine_version=ENGINE_VERSION,
        essentia_version=essentia_version(),
        features=wanted,
        **result,
    )


def _describe(
    wanted: tuple[str, ...],
    duration: float,
    frame_analyzer: frame_features.FrameAnalyzer | None,
    meter: loudness_meter.LoudnessMeter | None,
    decimator: tonal.Decimator | None,
    peaks: WaveformBuilder | None,
    report: ProgressCallback,
) -> dict[str, Any]:
    rate = frame_features.FRAME_RATE
    described: dict[str, Any] = {}
    absent: dict[str, str] = {}
    events: list[Event] = []
    frames = frame_analyzer.finish() if frame_analyzer is not None else None
    if frames is not None and "tempo" in wanted:
        report("rhythm", 82)
        tempo, tempo_absent = describe_tempo(frames, rate)
        described["tempo"] = tempo
        absent.update(tempo_absent)
        events += [
            Event(t, "beat", s) for t, s in zip(tempo.beats, tempo.beat_strengths, strict=True)
        ]
        downbeat_set = set(tempo.downbeats)
        events += [
            Event(t, "downbeat", s)
            for t, s in zip(tempo.beats, tempo.beat_strengths, strict=True)
            if t in downbeat_set
        ]
    if frames is not None and "onsets" in wanted:
        times, strengths = rhythm.detect_onsets(
            rhythm.onset_envelope(frames.spectral_flux, rate), rate
        )
        onsets = tuple(Onset(float(t), float(s)) for t, s in zip(times, strengths, strict=True))
        described["onsets"] = onsets
        events += [Event(o.t, "onset", o.strength) for o in onsets]
    if meter is not None:
        report("loudness", 84)
    summary = meter.finish() if meter is not None else None
    if summary is not None:
        loudness_peaks: tuple[tuple[float, float, float], ...] = ()
        if summary.integrated_lufs is None:
            absent["loudness"] = SILENCE
        else:
            loudness_peaks = find_loudness_peaks(summary.subblock_power, summary.integrated_lufs)
            if summary.range_lu is None:
                absent["loudness_range"] = TOO_SHORT
        described["loudness"] = Loudness(
            summary.integrated_lufs, summary.range_lu, summary.true_peak_dbtp, loudness_peaks
        )
        events += [Event(t, "loudness_peak", s) for t, _, s in loudness_peaks]
    if frames is not None and "timeline" in wanted:
        times = np.arange(frames.frame_count) / rate
        described["timeline"] = Timeline(
            frame_rate=rate,
            rms=frames.rms,
            spectral_centroid=frames.spectral_centroid,
            spectral_flux=frames.spectral_flux,
            chroma=frames.chroma,
            band_names=frame_features.BAND_NAMES,
            bands=frames.bands,
            mfcc=frames.mfcc,
            loudness_momentary=(
                loudness_meter.momentary_on_grid(summary.subblock_power, times)
                if summary is not None
                else None
            ),
        )
    key_signal = decimator.finish() if decimator is not None else None
    if key_signal is not None:
        report("key", 86)
        estimate = tonal.estimate_key(key_signal)
        described["key"] = Key(estimate.key, estimate.scale, estimate.strength)
        if estimate.key is None:
            absent["key"] = NO_TONAL_CONTENT if np.any(key_signal) else SILENCE
    if frames is not None and "sections" in wanted:
        report("structure", 88)
        if duration < structure.MIN_SECTION_SECONDS:
            # A section is at least that long; shorter audio has no structure to tell.
            absent["sections"] = TOO_SHORT
            spans: tuple[SectionSpan, ...] = ()
        else:
            spans = tuple(
                SectionSpan(s.start, s.end, s.novelty, _section_key(key_signal, s.start, s.end))
                for s in structure.find_sections(frames.mfcc, rate, duration)
            )
        described["sections"] = spans
        events += [Event(s.start, "section", s.novelty) for s in spans if s.novelty is not None]
    if peaks is not None:
        waveform = peaks.finish()
        described["waveform"] = Waveform(
            waveform.points_per_second, waveform.minimum, waveform.maximum
        )
    described["events"] = tuple(sorted(events, key=lambda e: (e.t, e.type)))
    described["absent"] = absent
    return described


def _section_key(
    key_signal: npt.NDArray[np.float32] | None, start: float, end: float
) -> Key | None:
    """The section's key from its whole stretch of the key signal, with its measured strength;
    its ``key`` is None when the section has no tonal content.

    The mean frame chroma of a section read the wrong key on real recordings (F major for
    sections of a piece in E minor); the track's own estimator on the section's audio does not
    have that problem.
    """
    if key_signal is None:
        return None
    first, last = round(start * tonal.KEY_SAMPLE_RATE), round(end * tonal.KEY_SAMPLE_RATE)
    segment = key_signal[first:last]
    if segment.size < 2 * tonal.KEY_FRAME_SIZE or not np.any(segment):
        # A silent section has no key; that is a fact about the section, not a failure.
        return None
    estimate = tonal.estimate_key(segment)
    return Key(estimate.key, estimate.scale, estimate.strength)


def describe_tempo(
    frames: frame_features.FrameFeatures, rate: float, *, octave_guard: bool = True
) -> tuple[Tempo, dict[str, str]]:
    """Tempo, beats and meter, and the reasons for whatever of them is absent.

    ``octave_guard=False`` exists so the guard can be measured.
    """
    full = rhythm.onset_envelope(frames.spectral_flux, rate)
    low = rhythm.onset_envelope(frames.low_band_flux, rate)
    estimate = rhythm.estimate_tempo(
        full,
        rate,
        low_envelope=low,
        mid_envelope=rhythm.onset_envelope(frames.mid_band_flux, rate),
        body=rhythm.body_envelope(
            frames.low_band_magnitude_flux, frames.mid_band_magnitude_flux, rate
        ),
        attack=rhythm.attack_size(frames.spectral_flux, rate),
        octave_guard=octave_guard,
    )
    if estimate is None or estimate.confidence < rhythm.PULSE_THRESHOLD:
        if estimate is None and full.size < rhythm.MIN_TEMPO_SECONDS * rate:
            reason = TOO_SHORT
        elif not np.any(frames.rms):
            reason = SILENCE
        else:
            reason = NO_REGULAR_PULSE
        tempo = Tempo(
            bpm=None,
            confidence=0.0 if estimate is None else estimate.confidence,
            beats=(),
            beat_strengths=(),
            beats_per_bar=None,
            meter_confidence=None,
            downbeats=(),
            tatums_per_beat=None,
        )
        return tempo, {"tempo": reason, "meter": reason}
    beat_envelope = low if np.any(low > 0) else full
    tightness = rhythm.tracker_tightness(rhythm.tempo_instability(full, rate, estimate.bpm))
    beats = rhythm.track_beats(beat_envelope, rate, estimate.bpm, tightness)
    beat_frames = np.round(beats * rate).astype(np.int64)
    values = beat_envelope[np.clip(beat_frames, 0, beat_envelope.size - 1)]
    peak = float(values.max()) if values.size else 0.0
    strengths = values / peak if peak > 0 else values
    meter = rhythm.estimate_downbeats(beat_frames, low)
    absent: dict[str, str] = {}
    downbeats: tuple[float, ...] = ()
    beats_per_bar: int | None = None
    if meter is not None and meter.confidence >= rhythm.METER_THRESHOLD:
        beats_per_bar = meter.beats_per_bar
        downbeats = tuple(float(t) for t in beats[meter.first_beat_index :: meter.beats_per_bar])
    else:
        absent["meter"] = METER_UNCLEAR
    alternatives = (
        (TempoAlternative(*estimate.alternative),) if estimate.alternative is not None else ()
    )
    tempo = Tempo(
        bpm=estimate.bpm,
        confidence=estimate.confidence,
        beats=tuple(float(t) for t in beats),
        beat_strengths=tuple(float(s) for s in strengths),
        beats_per_bar=beats_per_bar,
        meter_confidence=None if meter is None else meter.confidence,
        downbeats=downbeats,
        tatums_per_beat=rhythm.estimate_subdivision(beats, full, rate),
        alternatives=alternatives,
    )
    return tempo, absent


def find_loudness_peaks(
    subblock_power: npt.NDArray[np.float32], integrated_lufs: float
) -> tuple[tuple[float, float, float], ...]:
    """Momentary-loudness maxima that dominate a 4 s neighbourhood and exceed the programme's
    integrated loudness by at least 3 LU; strength scales from that threshold to the loudest."""
    momentary = loudness_meter.block_powers(subblock_power, loudness_meter.MOMENTARY_SUBBLOCKS)
    if momentary.size == 0:
        return ()
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10.0 * np.log10(momentary)
    half = round(_LOUDNESS_PEAK_WINDOW_SECONDS / 2 / loudness_meter.SUBBLOCK_SECONDS)
    padded = np.pad(lufs, half, mode="constant", constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)
    threshold = integrated_lufs + _LOUDNESS_PEAK_MIN_LU
    chosen = np.nonzero((lufs >= local_max) & (lufs >= threshold))[0]
    if chosen.size == 0:
        return ()
    chosen = chosen[np.concatenate([[True], np.diff(chosen) > half])]
    loudest = float(lufs[chosen].max())
    span = loudest - threshold
    centre_offset = loudness_meter.MOMENTARY_SUBBLOCKS * loudness_meter.SUBBLOCK_SECONDS / 2
    return tuple(
        (
            float(index * loudness_meter.SUBBLOCK_SECONDS + centre_offset),
            float(lufs[index]),
            float((lufs[index] - threshold) / span) if span > 0 else 1.0,
        )
        for index in chosen
    )
