"""Stem separation on a real solo voice over a generated backing whose parts are known."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import engine.stems as stems_module
from engine.decode import ffmpeg_executable
from engine.errors import EngineError
from engine.stems import STEM_NAMES, SeparationResult, separate
from tests.engine.stem_signals import F32, SR, Backing, backing, rms, sdr
from tests.support.audio import encode

WEIGHTS = Path(__file__).resolve().parents[2] / "var" / "models" / "spleeter-2stems"


def read_audio(path: str | Path) -> F32:
    """Decode a file with the bundled ffmpeg into (frames, channels) float32 at 44.1 kHz."""
    decoded = subprocess.run(
        [ffmpeg_executable(), "-v", "error", "-i", str(path), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    )
    info = subprocess.run(
        [ffmpeg_executable(), "-i", str(path)], capture_output=True, text=True, check=False
    ).stderr
    channels = 1 if " mono," in info else 2
    return np.frombuffer(decoded.stdout, dtype="<f4").reshape(-1, channels)


@pytest.fixture(scope="session")
def weights() -> Path:
    if not (WEIGHTS / "vocals.npz").is_file():
        pytest.fail("The stem weights are missing: run scripts/convert-stem-weights.")
    return WEIGHTS


class Mix:
    def __init__(self, voice: F32, parts: Backing) -> None:
        n = min(len(voice), len(parts.chords))
        self.voice = np.stack([voice[:n], voice[:n]], axis=1)
        self.voice *= rms(parts.total[:n]) / rms(self.voice)
        self.drums = parts.drums[:n].copy()
        mix = self.voice + parts.total[:n]
        scale = 0.9 / float(np.abs(mix).max())
        self.mix = (mix * scale).astype(np.float32)
        self.voice *= scale
        self.drums *= scale


@pytest.fixture(scope="module")
def mix(real_data: Path, workdir: Path) -> Mix:
    # vocadito_1: a solo singer, 44.1 kHz mono, CC BY 4.0 (tests/data/real/CREDITS.md).
    voice = read_audio(real_data / "vocadito_1.wav")[:, 0]
    return Mix(voice, backing(len(voice) / SR))


@pytest.fixture(scope="module")
def separated(mix: Mix, workdir: Path, weights: Path) -> tuple[SeparationResult, dict[str, F32]]:
    source = encode(mix.mix, workdir / "mix.flac")
    result = separate(source, workdir / "stereo", weights_dir=weights)
    return result, {stem.name: read_audio(stem.path) for stem in result.stems}


def test_the_vocals_stem_follows_the_real_voice(mix: Mix, separated) -> None:
    _, stems = separated
    assert sdr(mix.voice, stems["vocals"]) >= 6.0


def test_the_drums_stem_follows_the_generated_drums(mix: Mix, separated) -> None:
    _, stems = separated
    assert sdr(mix.drums, stems["drums"]) >= 3.0


def test_the_four_stems_add_back_to_the_input_within_40_db(mix: Mix, separated) -> None:
    _, stems = separated
    total = sum(stems[name] for name in STEM_NAMES)
    assert 20 * np.log10(rms(total - mix.mix) / rms(mix.mix)) < -40.0


def test_stereo_is_kept_and_each_stem_says_where_it_comes_from(separated) -> None:
    result, stems = separated
    assert result.channels == 2
    assert all(stem.shape[1] == 2 for stem in stems.values())
    assert not np.allclose(stems["drums"][:, 0], stems["drums"][:, 1])
    sources = {stem.name: stem.provenance.source for stem in result.stems}
    assert sources == {"vocals": "model", "drums": "dsp", "bass": "dsp", "other": "dsp"}
    assert "Spleeter" in result.stems[0].provenance.method
    assert json.dumps(result.to_dict())


def test_a_mono_input_gives_mono_stems_that_add_back(workdir: Path, weights: Path) -> None:
    parts = backing(4.0)
    mono = parts.total.mean(axis=1, keepdims=True) * 0.8
    source = encode(mono, workdir / "mono.wav")
    result = separate(source, workdir / "mono", weights_dir=weights)
    stems = [read_audio(stem.path) for stem in result.stems]
    assert result.channels == 1
    assert all(stem.shape == (len(mono), 1) for stem in stems)
    error = sum(stems) - mono
    assert 20 * np.log10(rms(error) / rms(mono)) < -40.0


def test_overlapping_windows_cross_fade_into_one_continuous_stem(
    workdir: Path, weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small windows make a 12 s file cross several window boundaries.
    monkeypatch.setattr(stems_module, "WINDOW_SAMPLES", 255 * 1024)
    monkeypatch.setattr(stems_module, "STEP_SAMPLES", 255 * 1024 - 2 * stems_module.OVERLAP_SAMPLES)
    parts = backing(12.0)
    source = encode(parts.total * 0.8, workdir / "windows.wav")
    result = separate(source, workdir / "windows", weights_dir=weights)
    stems = [read_audio(stem.path) for stem in result.stems]
    assert result.duration_seconds == pytest.approx(12.0, abs=0.01)
    error = sum(stems) - parts.total * 0.8
    assert 20 * np.log10(rms(error) / rms(parts.total * 0.8)) < -40.0


def test_a_corrupt_file_is_refused_and_leaves_no_stem(workdir: Path, weights: Path) -> None:
    corrupt = workdir / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40)
    with pytest.raises(EngineError) as refused:
        separate(corrupt, workdir / "corrupt", weights_dir=weights)
    assert refused.value.code == "undecodable_audio"
    assert not (workdir / "corrupt").exists()


def test_missing_weights_are_reported_as_such(workdir: Path) -> None:
    source = encode(backing(1.0).total, workdir / "short.wav")
    with pytest.raises(EngineError) as refused:
        separate(source, workdir / "no-model", weights_dir=workdir / "nowhere")
    assert refused.value.code == "model_unavailable"
