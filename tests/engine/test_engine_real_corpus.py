from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.pipeline import analyze
from tests.engine.engine_signals import f_measure

GUITARSET = "guitarset_00_BN1-129-Eb_comp_mic.wav"
CANDOMBE = "candombe_csic.1995_ansina1_01_first16s.flac"


@pytest.fixture(scope="module")
def truth(real_data: Path) -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = json.loads((real_data / "ground_truth.json").read_text())
    return loaded


def _annotated_beats(truth: dict[str, dict[str, object]], name: str) -> list[float]:
    beats = truth[name]["beats"]
    assert isinstance(beats, list)
    return [float(b) for b in beats]


@pytest.mark.parametrize("name", [GUITARSET, CANDOMBE])
def test_tempo_of_real_recording_is_within_4_percent_of_the_annotated_beat_rate(
    real_data: Path, truth: dict[str, dict[str, object]], name: str
) -> None:
    beats = _annotated_beats(truth, name)
    expected = 60.0 / ((beats[-1] - beats[0]) / (len(beats) - 1))
    result = analyze(real_data / name, features=["tempo"])
    assert result.tempo is not None
    assert result.tempo.bpm == pytest.approx(expected, rel=0.04)


@pytest.mark.parametrize("name", [GUITARSET, CANDOMBE])
def test_beats_of_syncopated_real_recording_follow_the_annotation_with_f_at_least_0_9(
    real_data: Path, truth: dict[str, dict[str, object]], name: str
) -> None:
    result = analyze(real_data / name, features=["tempo"])
    assert result.tempo is not None
    assert f_measure(list(result.tempo.beats), _annotated_beats(truth, name)) >= 0.9


def test_key_of_the_guitarset_clip_is_eb_major(real_data: Path) -> None:
    result = analyze(real_data / GUITARSET, features=["key"])
    assert result.key is not None
    assert (result.key.key, result.key.scale) == ("Eb", "major")


def test_every_section_of_sugar_plum_fairy_carries_a_measured_key_and_the_first_is_e_minor(
    real_data: Path,
) -> None:
    result = analyze(
        real_data / "librosa_Kevin_MacLeod_Sugar_Plum_Fairy.hq.ogg", features=["sections", "key"]
    )
    assert result.sections is not None
    assert len(result.sections) > 1
    keys = [section.key for section in result.sections]
    assert all(key is not None and 0.0 < key.strength <= 1.0 for key in keys)
    first = keys[0]
    assert first is not None
    assert (first.key, first.scale) == ("E", "minor")
