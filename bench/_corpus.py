"""Bench inputs: the real clips with their annotations and generated signals with known truth.

The generators are the ones the engine tests use (``tests/engine/engine_signals.py``),
so the accuracy table and the tests measure the same signals; ``tests/support/audio.py``
writes them to files for both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.engine.engine_signals import (
    SR,
    chord_progression,
    click_track,
    drum_pattern,
    f_measure,
    sine,
)
from tests.support.audio import encode

__all__ = [
    "REAL_DATA",
    "SR",
    "Clip",
    "chord_progression",
    "click_track",
    "drum_pattern",
    "f_measure",
    "onset_f_measure",
    "real_clips",
    "sine",
    "write_long_music",
]

REAL_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"
FloatArray = npt.NDArray[np.float32]
# Strummed chords reach the six strings within a few tens of milliseconds; one listener hears
# (and an onset detector can find) one onset there, not six.
STRUM_MERGE_SECONDS = 0.03


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    credit: str
    bpm: float | None = None
    beats: tuple[float, ...] = ()
    key: tuple[str, str] | None = None
    # Onset annotations, one tuple per annotator.
    onsets: tuple[tuple[float, ...], ...] = field(default_factory=tuple)


def _read_column(path: Path) -> tuple[float, ...]:
    return tuple(
        float(line.split(",")[0]) for line in path.read_text().splitlines() if line.strip()
    )


def _merge_close(times: tuple[float, ...], gap: float) -> tuple[float, ...]:
    merged: list[float] = []
    for t in sorted(times):
        if not merged or t - merged[-1] > gap:
            merged.append(t)
    return tuple(merged)


def _credits() -> dict[str, str]:
    credits = {}
    for line in (REAL_DATA / "CREDITS.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and (REAL_DATA / cells[0]).is_file():
            credits[cells[0]] = cells[1]
    return credits


def real_clips() -> list[Clip]:
    truth = json.loads((REAL_DATA / "ground_truth.json").read_text())
    credits = _credits()
    notes = REAL_DATA / "annotations"
    clips = []
    for name, entry in truth.items():
        beats = tuple(float(b) for b in entry.get("beats", []))
        bpm = entry.get("tempo_bpm") or entry.get("tempo_bpm_median_ibi")
        key = None
        key_text = str(entry.get("key", ""))
        if key_text.startswith("F (tonic F"):
            # The creator calls it blues/Dorian on F: a minor-mode tonic of F.
            key = ("F", "minor")
        elif " major" in key_text or " minor" in key_text:
            tonic, scale = key_text.split()[:2]
            key = (tonic, scale)
        onsets: tuple[tuple[float, ...], ...] = ()
        if name.startswith("guitarset_"):
            strings = _read_column(notes / "guitarset_00_BN1-129-Eb_comp_note_onsets.csv")
            onsets = (_merge_close(strings, STRUM_MERGE_SECONDS),)
        elif name.startswith("vocadito_1"):
            onsets = tuple(
                _read_column(notes / f"vocadito_1_notes{annotator}.csv")
                for annotator in ("A1", "A2")
            )
        clips.append(
            Clip(
                name=name,
                path=REAL_DATA / name,
                credit=credits[name],
                bpm=float(bpm) if bpm is not None else None,
                beats=beats,
                key=key,
                onsets=onsets,
            )
        )
    return clips


def onset_f_measure(
    estimated: list[float], reference: tuple[float, ...], tolerance: float = 0.05
) -> float:
    """Onset F-measure with one-to-one matching within ``tolerance`` seconds."""
    return f_measure(estimated, list(reference), tolerance)


def _music_block(rng: np.random.Generator, bpm: float, root: str, seconds: float) -> FloatArray:
    chords = {
        "C": [["C", "E", "G"], ["A", "C", "E"], ["F", "A", "C"], ["G", "B", "D"]],
        "A": [["A", "C#", "E"], ["F#", "A", "C#"], ["D", "F#", "A"], ["E", "Ab", "B"]],
        "Eb": [["Eb", "G", "Bb"], ["C", "Eb", "G"], ["Ab", "C", "Eb"], ["Bb", "D", "F"]],
    }[root]
    drums, _ = drum_pattern(bpm, seconds, offset=0.0)
    bar = 4 * 60.0 / bpm
    harmony = np.resize(chord_progression(chords, seconds_per_chord=bar), drums.size)
    noise = 0.01 * rng.standard_normal(drums.size).astype(np.float32)
    return np.asarray(drums + 0.8 * harmony + noise, dtype=np.float32)


def write_long_music(path: Path, minutes: float, *, channels: int = 2) -> Path:
    """A drum-and-chords FLAC of ``minutes`` that changes key and tempo every minute.

    The signal is generated and encoded one minute at a time, so writing a long file never
    holds it whole in memory.
    """
    rng = np.random.default_rng(30)
    plan = [(120.0, "C"), (96.0, "A"), (132.0, "Eb")]

    def minutes_of_music() -> Iterator[FloatArray]:
        for minute in range(int(np.ceil(minutes))):
            bpm, root = plan[minute % len(plan)]
            seconds = min(60.0, minutes * 60.0 - minute * 60.0)
            mono = _music_block(rng, bpm, root, seconds)
            # A slight inter-channel delay makes the stereo file genuinely two-channel.
            yield np.stack([mono, np.roll(mono, 7)], axis=1)[:, :channels]

    return encode(minutes_of_music(), path, sample_rate=SR)
