from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from engine.pipeline import analyze
from engine.results import Tempo
from tests.engine.engine_signals import (
    click_ramp,
    click_track,
    drum_pattern,
    f_measure,
    metered_pattern,
)
from tests.support.audio import encode


def tempo_of(signal: npt.NDArray[np.float32], path: Path) -> Tempo:
    """The engine's tempo reading of `signal`, written to `path` first."""
    result = analyze(encode(signal, path), features=["tempo"])
    assert result.tempo is not None
    return result.tempo


def assert_keeps_the_beat(tempo: Tempo, bpm: float, beats: list[float]) -> None:
    assert tempo.bpm == pytest.approx(bpm, rel=0.04)
    assert f_measure(list(tempo.beats), beats) >= 0.9


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_of_click_track_is_within_4_percent_and_beats_score_f_at_least_0_9(
    workdir: Path, bpm: float
) -> None:
    signal, beats = click_track(bpm, 12.0)
    assert_keeps_the_beat(tempo_of(signal, workdir / f"click_{int(bpm)}.wav"), bpm, beats)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_tempo_of_drum_pattern_is_within_4_percent_and_beats_score_f_at_least_0_9(
    workdir: Path, bpm: float
) -> None:
    signal, beats = drum_pattern(bpm, 12.0)
    stereo = np.stack([signal, signal], axis=1)
    assert_keeps_the_beat(tempo_of(stereo, workdir / f"drums_{int(bpm)}.flac"), bpm, beats)


def test_drum_pattern_downbeats_fall_on_beats(workdir: Path) -> None:
    signal, _ = drum_pattern(120.0, 12.0)
    tempo = tempo_of(signal, workdir / "drums_downbeats.wav")
    assert set(tempo.downbeats) <= set(tempo.beats)


@pytest.mark.parametrize(
    ("maker", "bpm"),
    [
        (click_track, 60.0),
        (click_track, 180.0),
        (drum_pattern, 60.0),
        (drum_pattern, 70.0),
        (drum_pattern, 180.0),
    ],
)
def test_octave_guard_keeps_slow_and_fast_patterns_at_their_own_tempo(
    workdir: Path, maker: Callable[..., tuple[npt.NDArray[np.float32], list[float]]], bpm: float
) -> None:
    signal, beats = maker(bpm, 20.0)
    path = workdir / f"octave_{maker.__name__}_{int(bpm)}.wav"
    assert_keeps_the_beat(tempo_of(signal, path), bpm, beats)


def test_beats_follow_a_tempo_that_speeds_up_from_100_to_130_bpm(workdir: Path) -> None:
    signal, beats = click_ramp(100.0, 130.0, 40.0)
    tempo = tempo_of(signal, workdir / "ramp.wav")
    assert f_measure(list(tempo.beats), beats) >= 0.9


@pytest.mark.parametrize("bpm", [75.0, 175.0])
def test_octave_guard_reaches_a_fast_tempo_whose_comb_peaks_at_a_quarter(
    workdir: Path, bpm: float
) -> None:
    signal, beats = drum_pattern(bpm, 20.0)
    assert_keeps_the_beat(tempo_of(signal, workdir / f"quarter_{int(bpm)}.wav"), bpm, beats)


def test_tempo_alternative_is_the_other_octave_with_at_most_half_the_evidence(
    workdir: Path,
) -> None:
    signal, _ = drum_pattern(100.0, 20.0)
    tempo = tempo_of(signal, workdir / "alternative_100.wav")
    assert tempo.bpm is not None
    (alternative,) = tempo.alternatives
    assert alternative.bpm / tempo.bpm in (pytest.approx(0.5), pytest.approx(2.0))
    assert 0.0 < alternative.weight <= 0.5


@pytest.mark.parametrize("bpm", [56.0, 64.0])
def test_a_kick_on_every_slow_beat_under_eighth_note_hats_keeps_the_beat(
    workdir: Path, bpm: float
) -> None:
    # The hats fill the level below the beat as evenly as the kicks fill the beat; only how
    # loud each is below 4 kHz tells the beat from its subdivision.
    signal, beats = drum_pattern(bpm, 20.0)
    tempo = tempo_of(signal, workdir / f"slow_drums_{int(bpm)}.wav")
    assert_keeps_the_beat(tempo, bpm, beats)
    assert tempo.beats_per_bar is None


@pytest.mark.parametrize("meter", ["2/4", "4/4"])
def test_a_snare_between_fast_kicks_is_a_beat_of_its_own(workdir: Path, meter: str) -> None:
    signal, beats, downbeats = metered_pattern(170.0, 20.0, meter)
    tempo = tempo_of(signal, workdir / f"fast_{meter.replace('/', '-')}.wav")
    assert_keeps_the_beat(tempo, 170.0, beats)
    assert tempo.beats_per_bar == int(meter[0])
    assert f_measure(list(tempo.downbeats), downbeats) >= 0.9


def test_fast_six_eight_is_not_read_at_every_other_eighth_note(workdir: Path) -> None:
    signal, beats, _ = metered_pattern(180.0, 20.0, "6/8")
    tempo = tempo_of(signal, workdir / "fast_6-8.wav")
    assert_keeps_the_beat(tempo, 180.0, beats)
    assert all(abs(alternative.bpm - 90.0) > 4.0 for alternative in tempo.alternatives)
