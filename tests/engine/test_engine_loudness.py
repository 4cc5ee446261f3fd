from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine._essentia import es_loudness_ebur128
from engine.loudness import LoudnessMeter, true_peak
from engine.pipeline import analyze
from tests.engine.engine_signals import SR, sine
from tests.support.audio import encode

EBU_REFERENCE_AMPLITUDE = 10 ** (-23 / 20)


def test_ebu_3341_stereo_1khz_sine_at_minus_23_dbfs_reads_minus_23_lufs(workdir: Path) -> None:
    tone = sine(1000.0, 20.0, EBU_REFERENCE_AMPLITUDE)
    path = encode(np.stack([tone, tone], axis=1), workdir / "ebu.flac")
    result = analyze(path, features=["loudness"])
    assert result.loudness is not None
    assert result.loudness.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    assert result.loudness.range_lu == pytest.approx(0.0, abs=0.1)


def test_mono_file_is_measured_as_one_channel(workdir: Path) -> None:
    tone = sine(1000.0, 10.0, EBU_REFERENCE_AMPLITUDE)
    path = encode(tone, workdir / "ebu_mono.flac")
    result = analyze(path, features=["loudness"])
    assert result.loudness is not None
    assert result.loudness.integrated_lufs == pytest.approx(-26.01, abs=0.1)


def test_block_wise_meter_agrees_with_essentia_loudness_ebur128_on_varying_stereo() -> None:
    rng = np.random.default_rng(3)
    ramp = np.linspace(0.02, 0.3, SR * 12)[:, None]
    signal = (rng.standard_normal((SR * 12, 2)) * ramp * [1.0, 0.5]).astype(np.float32)
    meter = LoudnessMeter(SR, 2)
    for start in range(0, signal.shape[0], SR * 2 + 123):
        meter.push(signal[start : start + SR * 2 + 123])
    summary = meter.finish()
    integrated, loudness_range = es_loudness_ebur128(signal, SR)
    assert summary.integrated_lufs == pytest.approx(integrated, abs=0.1)
    assert summary.range_lu == pytest.approx(loudness_range, abs=0.2)


def test_true_peak_finds_the_inter_sample_peak_of_a_quarter_rate_sine() -> None:
    t = np.arange(SR) / SR
    signal = (0.5 * np.sin(2 * np.pi * SR / 4 * t + np.pi / 4)).astype(np.float32)
    assert np.max(np.abs(signal)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert 20 * np.log10(true_peak(signal) / 0.5) == pytest.approx(0.0, abs=0.2)
