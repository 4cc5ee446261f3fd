"""The accuracy bench's external corpus: a manifest it reads, or refuses with the fault named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench._external import ManifestError, load_manifest, materialise
from bench._systems import essentia_audio
from tests.support.audio import encode

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "2402db5e63e475809c3ca51aeb3781a608770294"


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "loop_a",
        "audio": "loops/a.wav",
        "bpm": 120,
        "truth": "the creator's tempo",
        "licence": "CC0 1.0",
        "credit": "Loop A by someone",
        "source": {
            "repository": "owner/repo",
            "commit": COMMIT,
            "path": "data/a.wav",
            "licence_stated_in": "data/licenses.txt",
        },
    }
    entry.update(changes)
    return entry


def _corpus(root: Path, *entries: dict[str, Any]) -> Path:
    (root / "loops").mkdir()
    tone = np.sin(2 * np.pi * 440 * np.arange(22050) / 44100).astype(np.float32)
    encode(tone, root / "loops" / "a.wav")
    (root / "corpus.json").write_text(json.dumps({"clips": list(entries)}))
    return root


def test_a_well_formed_manifest_gives_its_clips(tmp_path: Path) -> None:
    (tmp_path / "beats.txt").write_text("0.5 1\n1.0 2\n1.5 3\n")
    _corpus(tmp_path, _entry(repeat=3), _entry(name="played", bpm=None, beats="beats.txt"))

    loop, played = load_manifest(tmp_path)

    assert (loop.bpm, loop.repeat, loop.beats) == (120.0, 3, ())
    assert loop.audio == (tmp_path / "loops" / "a.wav").resolve()
    assert loop.source.commit == COMMIT
    assert (played.bpm, played.repeat, played.beats) == (None, 1, (0.5, 1.0, 1.5))


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        (_entry(licence="CC BY-NC 4.0"), "is not open"),
        (_entry(licence="All rights reserved"), "is not open"),
        (_entry(audio="loops/missing.wav"), "'audio' names loops/missing.wav"),
        (_entry(audio="../outside.wav"), "must stay inside"),
        (_entry(bpm=None), "needs 'bpm', 'beats' or both"),
        (_entry(bpm="120"), "'bpm' must be a number"),
        (_entry(repeat=0), "'repeat' must be a whole number"),
        (_entry(credit=""), "'credit' must be a non-empty string"),
        (_entry(source={"repository": "owner/repo"}), "'commit' must be a non-empty string"),
        (
            _entry(
                source={
                    "repository": "owner/repo",
                    "commit": "main",
                    "path": "a.wav",
                    "licence_stated_in": "README",
                }
            ),
            "full 40-digit commit id",
        ),
    ],
)
def test_a_malformed_clip_is_refused_with_its_fault(
    tmp_path: Path, entry: dict[str, Any], fault: str
) -> None:
    _corpus(tmp_path, entry)

    with pytest.raises(ManifestError, match="clip 1") as refused:
        load_manifest(tmp_path)

    assert fault in str(refused.value)


def test_two_clips_with_one_name_are_refused(tmp_path: Path) -> None:
    _corpus(tmp_path, _entry(), _entry())

    with pytest.raises(ManifestError, match="clip 2 \\(loop_a\\): the name is used twice"):
        load_manifest(tmp_path)


def test_beats_that_do_not_increase_are_refused(tmp_path: Path) -> None:
    (tmp_path / "beats.txt").write_text("1.0\n0.5\n")
    _corpus(tmp_path, _entry(beats="beats.txt"))

    with pytest.raises(ManifestError, match="two or more increasing beat times"):
        load_manifest(tmp_path)


def test_a_directory_without_a_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no corpus\.json"):
        load_manifest(tmp_path)


def test_a_loop_played_three_times_lasts_three_times_as_long(tmp_path: Path) -> None:
    _corpus(tmp_path, _entry(repeat=3))
    (loop,) = load_manifest(tmp_path)

    clip = materialise(loop, tmp_path)

    assert clip.path != loop.audio
    assert essentia_audio(clip.path).size == 3 * essentia_audio(loop.audio).size
    assert clip.credit == "CC0 1.0 — Loop A by someone"


def test_the_bench_stops_on_a_malformed_manifest_before_measuring(tmp_path: Path) -> None:
    _corpus(tmp_path, _entry(licence="CC BY-NC-SA 4.0"))

    run = subprocess.run(
        [sys.executable, "-m", "bench.accuracy", "--external-corpus", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 2
    assert "--external-corpus: clip 1 (loop_a): licence 'CC BY-NC-SA 4.0' is not open" in run.stderr
    assert run.stdout == ""
