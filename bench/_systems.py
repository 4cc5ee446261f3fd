"""The systems the accuracy bench compares: the engine's own stages, bare Essentia, librosa.

Bare Essentia runs with its defaults: RhythmExtractor2013 (multifeature) for tempo and beats,
KeyExtractor (default profile) for key, OnsetDetection (hfc) + Onsets for onsets. librosa runs
``beat.beat_track`` with its defaults on a 22 050 Hz mono load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import essentia
import essentia.standard as es
import numpy as np
import numpy.typing as npt

from bench._corpus import SR
from engine import frames as frame_features
from engine import rhythm
from engine.decode import iter_pcm_blocks, probe_audio, sniff_audio_format
from engine.tonal import Decimator, normalise_key_name

try:
    import librosa
except ImportError:  # the bench extra is optional; its columns then read "-"
    librosa = None  # type: ignore[assignment]  # a missing module is None, checked before use

essentia.log.infoActive = False


@dataclass(frozen=True)
class Decoded:
    frames: frame_features.FrameFeatures
    key_signal: npt.NDArray[np.float32]


def decode(path: Path) -> Decoded:
    """The engine's own decode and frame analysis, kept so several variants can share it."""
    with path.open("rb") as handle:
        container = sniff_audio_format(handle.read(64))
    assert container is not None, path
    probe = probe_audio(path, input_format=container)
    channels = min(probe.channels, 2)
    analyzer = frame_features.FrameAnalyzer(with_spectral=False)
    # The bench runs the engine's own stages on one decode; beats need the full pipeline's
    # octave guard and pulse gate, which ``describe_tempo`` applies.
    decimator = Decimator()
    for block in iter_pcm_blocks(path, input_format=container, sample_rate=SR, channels=channels):
        mono = block.mean(axis=1, dtype=np.float32) if channels > 1 else block[:, 0]
        analyzer.push(mono)
        decimator.push(mono)
    return Decoded(analyzer.finish(), decimator.finish())


def frames_and_key(
    path: Path,
) -> tuple[frame_features.FrameFeatures, npt.NDArray[np.float32]]:
    decoded = decode(path)
    return decoded.frames, decoded.key_signal


def essentia_audio(path: Path) -> npt.NDArray[np.float32]:
    return np.asarray(es.MonoLoader(filename=str(path), sampleRate=SR)())


def essentia_rhythm(audio: npt.NDArray[np.float32]) -> tuple[float, list[float]]:
    bpm, beats, _, _, _ = es.RhythmExtractor2013(method="multifeature")(audio)
    return float(bpm), [float(b) for b in beats]


def essentia_key(audio: npt.NDArray[np.float32]) -> tuple[str, str]:
    key, scale, _ = es.KeyExtractor()(audio)
    return normalise_key_name(str(key)), str(scale)


def essentia_onsets(audio: npt.NDArray[np.float32]) -> list[float]:
    window, fft, polar = es.Windowing(type="hann"), es.FFT(), es.CartesianToPolar()
    detection = es.OnsetDetection()
    curve = []
    for frame in es.FrameGenerator(audio, frameSize=1024, hopSize=512):
        magnitude, phase = polar(fft(window(frame)))
        curve.append(detection(magnitude, phase))
    onsets = es.Onsets()(essentia.array([curve]), [1])
    return [float(t) for t in onsets]


def engine_onsets(decoded: Decoded) -> list[float]:
    rate = frame_features.FRAME_RATE
    times, _ = rhythm.detect_onsets(rhythm.onset_envelope(decoded.frames.spectral_flux, rate), rate)
    return [float(t) for t in times]


def tempo_ok(estimate: float | None, truth: float) -> bool:
    return estimate is not None and abs(estimate - truth) <= 0.04 * truth


def bpm_cell(value: float | None) -> str:
    return "absent" if value is None else f"{value:.1f}"


def mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


@dataclass
class Tables:
    lines: list[str]

    def add(self, *rows: str) -> None:
        self.lines.extend(rows)


def librosa_rhythm(path: Path) -> tuple[float, list[float]] | None:
    if librosa is None:
        return None
    audio, rate = librosa.load(str(path), sr=22050, mono=True)
    bpm, frames = librosa.beat.beat_track(y=audio, sr=rate)
    times = librosa.frames_to_time(frames, sr=rate)
    return float(np.atleast_1d(bpm)[0]), [float(t) for t in times]
