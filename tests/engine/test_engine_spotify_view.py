from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.errors import EngineError
from engine.pipeline import analyze
from engine.spotify import to_audio_analysis
from tests.engine.engine_signals import chord_progression, drum_pattern, metered_pattern
from tests.support.audio import encode


@pytest.fixture(scope="module")
def view(workdir: Path) -> dict[str, object]:
    # Bass and an accented kick open every bar, so the meter (and with it bars) can be told.
    drums, _, _ = metered_pattern(120.0, 12.0, "4/4")
    chords = chord_progression([("A", "C", "E"), ("D", "F", "A"), ("E", "Ab", "B")] * 2)
    mix = drums[: chords.size] + chords
    path = encode(np.stack([mix, mix], axis=1), workdir / "view.flac")
    return to_audio_analysis(analyze(path))


def test_audio_analysis_view_has_spotify_shaped_lists(view: dict[str, object]) -> None:
    json.dumps(view, allow_nan=False)
    for name in ("bars", "beats", "tatums", "sections", "segments"):
        items = view[name]
        assert isinstance(items, list)
        assert items
        assert all({"start", "duration", "confidence"} <= set(item) for item in items)
    track = view["track"]
    assert isinstance(track, dict)
    assert track["tempo"] == pytest.approx(120.0, rel=0.04)


def test_segments_carry_normalised_pitches_and_twelve_timbre_values(
    view: dict[str, object],
) -> None:
    segments = view["segments"]
    assert isinstance(segments, list)
    for segment in segments:
        assert len(segment["pitches"]) == 12
        assert max(segment["pitches"]) == pytest.approx(1.0)
        assert len(segment["timbre"]) == 12
        assert segment["loudness_max"] >= segment["loudness_start"]


def test_view_refuses_a_result_without_the_features_it_needs(workdir: Path) -> None:
    drums, _ = drum_pattern(120.0, 6.0)
    result = analyze(encode(drums, workdir / "partial.wav"), features=["tempo"])
    with pytest.raises(EngineError) as raised:
        to_audio_analysis(result)
    assert raised.value.code == "feature_failed"
