from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_signals import click_track, drum_pattern, encode, f_measure

from analysis.engine import analyze


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_of_click_track_is_within_4_percent_and_beats_score_f_at_least_0_9(
    workdir: Path, bpm: float
) -> None:
    signal, beats = click_track(bpm, 12.0)
    path = encode(signal, workdir / f"click_{int(bpm)}.wav")
    result = analyze(path, features=["tempo"])
    assert result.tempo is not None
    assert result.tempo.bpm == pytest.approx(bpm, rel=0.04)
    assert f_measure(list(result.tempo.beats), beats) >= 0.9


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_of_drum_pattern_is_within_4_percent_and_beats_score_f_at_least_0_9(
    workdir: Path, bpm: float
) -> None:
    signal, beats = drum_pattern(bpm, 12.0)
    path = encode(np.stack([signal, signal], axis=1), workdir / f"drums_{int(bpm)}.flac")
    result = analyze(path, features=["tempo"])
    assert result.tempo is not None
    assert result.tempo.bpm == pytest.approx(bpm, rel=0.04)
    assert f_measure(list(result.tempo.beats), beats) >= 0.9


def test_drum_pattern_downbeats_fall_on_beats(workdir: Path) -> None:
    signal, _ = drum_pattern(120.0, 12.0)
    path = encode(signal, workdir / "drums_downbeats.wav")
    result = analyze(path, features=["tempo"])
    assert result.tempo is not None
    assert set(result.tempo.downbeats) <= set(result.tempo.beats)
