from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.errors import EngineError
from engine.features import ENGINE_VERSION, FEATURES
from engine.frames import FRAME_RATE
from engine.pipeline import analyze
from tests.engine.engine_signals import SR, chord_progression, drum_pattern
from tests.support.audio import encode


@pytest.fixture(scope="module")
def music(workdir: Path) -> Path:
    drums, _ = drum_pattern(120.0, 12.0)
    chords = chord_progression([("C", "E", "G"), ("F", "A", "C"), ("G", "B", "D")] * 2)
    mix = drums[: chords.size] + chords
    return encode(np.stack([mix, 0.8 * mix], axis=1), workdir / "music.flac")


@pytest.fixture(scope="module")
def full(music: Path) -> dict[str, object]:
    stages: list[tuple[str, int]] = []
    result = analyze(music, progress=lambda stage, percent: stages.append((stage, percent)))
    assert stages[-1] == ("done", 100)
    assert [p for _, p in stages] == sorted(p for _, p in stages)
    return result.to_dict()


def test_full_result_is_json_serialisable_with_every_documented_key(
    full: dict[str, object],
) -> None:
    text = json.dumps(full, allow_nan=False)
    assert json.loads(text) == full
    for key in (
        "tempo",
        "beats",
        "key",
        "loudness",
        "onsets",
        "sections",
        "timeline",
        "waveform",
        "events",
        "duration",
        "sample_rate",
        "channels",
    ):
        assert key in full
    assert full["schema_version"] == 2
    assert full["engine_version"] == ENGINE_VERSION
    assert isinstance(full["essentia_version"], str)
    assert full["channels"] == 2
    assert full["duration"] == pytest.approx(12.0, abs=0.05)


def test_timeline_has_one_entry_per_frame_at_the_fixed_frame_rate(full: dict[str, object]) -> None:
    timeline = full["timeline"]
    assert isinstance(timeline, dict)
    assert timeline["frame_rate"] == pytest.approx(FRAME_RATE, abs=1e-6)
    frames = len(timeline["rms"])
    assert frames == pytest.approx(12.0 * FRAME_RATE, abs=2)
    assert len(timeline["chroma"]) == frames
    assert all(len(row) == 12 for row in timeline["chroma"])
    assert len(timeline["bands"]["names"]) == 8
    assert all(len(row) == 8 for row in timeline["bands"]["values"])
    assert len(timeline["loudness_momentary"]) == frames
    assert len(timeline["spectral_flux"]) == frames


def test_waveform_has_100_min_max_points_per_second(full: dict[str, object]) -> None:
    waveform = full["waveform"]
    assert isinstance(waveform, dict)
    assert waveform["points_per_second"] == 100
    assert len(waveform["min"]) == len(waveform["max"]) == 1200
    assert all(lo <= hi for lo, hi in zip(waveform["min"], waveform["max"], strict=True))


def test_events_are_time_sorted_and_typed(full: dict[str, object]) -> None:
    events = full["events"]
    assert isinstance(events, list)
    times = [event["t"] for event in events]
    assert times == sorted(times)
    types = {event["type"] for event in events}
    assert {"beat", "onset"} <= types
    assert types <= {"beat", "downbeat", "onset", "section", "loudness_peak"}
    assert all(0.0 <= event["strength"] <= 1.0 for event in events)


def test_only_requested_features_are_computed(music: Path) -> None:
    data = analyze(music, features=["loudness", "waveform"]).to_dict()
    assert "loudness" in data
    assert "waveform" in data
    for absent in ("tempo", "beats", "key", "onsets", "sections", "timeline"):
        assert absent not in data
    assert {event["type"] for event in data["events"]} <= {"loudness_peak"}


def test_unknown_feature_names_are_rejected_listing_the_allowed_ones(music: Path) -> None:
    with pytest.raises(ValueError, match="tempo") as raised:
        analyze(music, features=["tempo", "mood"])
    assert "mood" in str(raised.value)
    assert set(FEATURES) == {
        "tempo",
        "key",
        "loudness",
        "onsets",
        "sections",
        "timeline",
        "waveform",
    }


def test_unrecognised_file_is_unsupported(workdir: Path) -> None:
    path = workdir / "notes.txt"
    path.write_text("just some text, long enough to fill the sniffed head of the file......")
    with pytest.raises(EngineError) as raised:
        analyze(path)
    assert raised.value.code == "unsupported_audio"


def test_silence_has_no_loudness_instead_of_an_invented_one(workdir: Path) -> None:
    path = encode(np.zeros((SR * 5, 2), dtype=np.float32), workdir / "silence.wav")
    data = analyze(path, features=["loudness"]).to_dict()
    assert data["loudness"] == {"integrated_lufs": None, "range_lu": None, "true_peak_dbtp": None}
    assert data["absent"] == {"loudness": "silence"}
