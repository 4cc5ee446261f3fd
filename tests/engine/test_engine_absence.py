"""A full default analysis of beatless material succeeds and reports absence, not inventions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from engine.pipeline import analyze
from engine.spotify import to_audio_analysis
from tests.engine.engine_signals import (
    SR,
    drone,
    pad,
    pink_noise,
    rubato_line,
    sine,
    speech_bursts,
    tremolo_chord,
    white_noise,
)
from tests.support.audio import encode

SECONDS = 20.0
# name -> (generator, tonal?)
BEATLESS: dict[str, tuple[Callable[[], npt.NDArray[np.float32]], bool | None]] = {
    "pad": (lambda: pad(("C", "E", "G"), SECONDS), True),
    "pad_slow_swell": (lambda: pad(("A", "C", "E"), SECONDS, swell_seconds=10.0), True),
    "tremolo_chord": (lambda: tremolo_chord(("F", "A", "C"), SECONDS, 2.35), True),
    "drone": (lambda: drone("D", SECONDS, seed=3), True),
    "rubato_line": (lambda: rubato_line(SECONDS, seed=5), True),
    "white_noise": (lambda: white_noise(SECONDS, seed=4), False),
    "pink_noise": (lambda: pink_noise(SECONDS, seed=4), False),
    "speech_bursts": (lambda: speech_bursts(SECONDS, seed=6), None),
    "sine_1khz": (lambda: sine(1000.0, SECONDS, 0.1), None),
    "silence": (lambda: np.zeros(int(SECONDS * SR), dtype=np.float32), False),
}


@pytest.fixture(scope="module", params=sorted(BEATLESS))
def beatless(request: pytest.FixtureRequest, workdir: Path) -> tuple[str, dict[str, object]]:
    name: str = request.param
    path = encode(BEATLESS[name][0](), workdir / f"beatless_{name}.wav")
    return name, analyze(path).to_dict()


def test_beatless_audio_has_no_tempo_and_no_beats_and_says_why(
    beatless: tuple[str, dict[str, object]],
) -> None:
    name, result = beatless
    tempo = result["tempo"]
    assert isinstance(tempo, dict)
    assert tempo["bpm"] is None
    assert tempo["beats_per_bar"] is None
    assert result["beats"] == []
    assert result["downbeats"] == []
    absent = result["absent"]
    assert isinstance(absent, dict)
    expected = "silence" if name == "silence" else "no_regular_pulse"
    assert absent["tempo"] == expected
    assert {"beat", "downbeat"}.isdisjoint({e["type"] for e in result["events"]})  # type: ignore[attr-defined]
    json.dumps(result, allow_nan=False)


def test_beatless_audio_keeps_its_key_only_where_it_is_tonal(
    beatless: tuple[str, dict[str, object]],
) -> None:
    name, result = beatless
    tonal = BEATLESS[name][1]
    key = result["key"]
    assert isinstance(key, dict)
    absent = result["absent"]
    assert isinstance(absent, dict)
    if tonal is True:
        assert key["key"] is not None
        assert "key" not in absent
    elif tonal is False:
        assert key["key"] is None
        assert key["scale"] is None
        assert absent["key"] in {"no_tonal_content", "silence"}


def test_beatless_audio_still_gets_loudness_timeline_and_sections(
    beatless: tuple[str, dict[str, object]],
) -> None:
    name, result = beatless
    loudness = result["loudness"]
    assert isinstance(loudness, dict)
    if name == "silence":
        assert loudness["integrated_lufs"] is None
        assert result["absent"]["loudness"] == "silence"  # type: ignore[index]
    else:
        assert isinstance(loudness["integrated_lufs"], float)
    assert len(result["timeline"]["rms"]) > 0  # type: ignore[index]
    assert len(result["sections"]) >= 1  # type: ignore[arg-type]


def test_spotify_view_of_beatless_audio_uses_spotify_absence_conventions(
    workdir: Path,
) -> None:
    path = encode(white_noise(SECONDS, seed=9), workdir / "view_noise.wav")
    view = to_audio_analysis(analyze(path))
    track = view["track"]
    assert (track["tempo"], track["tempo_confidence"]) == (0.0, 0.0)
    assert (track["key"], track["mode"], track["key_confidence"]) == (-1, -1, 0.0)
    assert view["beats"] == view["bars"] == view["tatums"] == []
    assert all(section["tempo"] == 0.0 and section["key"] == -1 for section in view["sections"])


@pytest.mark.parametrize("lufs", [-23.0, -18.0])
def test_ebu_reference_tone_measures_within_a_tenth_of_a_lu_in_a_full_analysis(
    workdir: Path, lufs: float
) -> None:
    # EBU Tech 3341: a stereo 1 kHz sine at L dBFS on both channels reads L LUFS.
    tone = sine(1000.0, SECONDS, 10 ** (lufs / 20))
    path = encode(np.stack([tone, tone], axis=1), workdir / f"ebu_{lufs:g}.wav")
    result = analyze(path)
    assert result.loudness is not None
    assert result.loudness.integrated_lufs == pytest.approx(lufs, abs=0.1)
    assert result.tempo is not None
    assert result.tempo.bpm is None


def test_audio_shorter_than_a_section_has_no_sections_and_says_so(workdir: Path) -> None:
    path = encode(pad(("C", "E", "G"), 5.0), workdir / "short_pad.wav")
    result = analyze(path).to_dict()
    assert result["sections"] == []
    assert result["absent"]["sections"] == "too_short"
    assert result["absent"]["tempo"] == "no_regular_pulse"
