from __future__ import annotations

from pathlib import Path

import pytest

from engine.pipeline import analyze
from tests.engine.engine_signals import chord_progression
from tests.support.audio import encode

PROGRESSIONS = {
    ("C", "major"): [("C", "E", "G"), ("F", "A", "C"), ("G", "B", "D"), ("C", "E", "G")],
    ("A", "minor"): [("A", "C", "E"), ("D", "F", "A"), ("E", "Ab", "B"), ("A", "C", "E")],
    ("Eb", "major"): [("Eb", "G", "Bb"), ("Ab", "C", "Eb"), ("Bb", "D", "F"), ("Eb", "G", "Bb")],
    ("F#", "minor"): [("F#", "A", "C#"), ("B", "D", "F#"), ("C#", "F", "Ab"), ("F#", "A", "C#")],
}


@pytest.mark.parametrize(("key", "scale"), list(PROGRESSIONS))
def test_key_of_synthesised_chord_progression_is_found(workdir: Path, key: str, scale: str) -> None:
    signal = chord_progression(PROGRESSIONS[(key, scale)] * 2)
    path = encode(signal, workdir / f"chords_{key}_{scale}.wav")
    result = analyze(path, features=["key"])
    assert result.key is not None
    assert (result.key.key, result.key.scale) == (key, scale)
    assert 0.0 < result.key.strength <= 1.0
