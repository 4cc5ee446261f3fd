"""Annotated real recordings kept outside the repository, named by a manifest.

Public repositories hold openly licensed recordings with human tempo or beat annotations that
this repository may not carry. ``--external-corpus DIR`` reads ``DIR/corpus.json``::

    {
      "clips": [
        {
          "name": "fsl_265575_hard3eat_100bpm",
          "audio": "ffont_ismir2016/265575.wav",
          "repeat": 4,
          "bpm": 100,
          "beats": "annotations/some_clip.beats",
          "truth": "the creator's tempo, in the Freesound name and tags",
          "licence": "CC0 1.0",
          "credit": "\\"100 Bpm Loop 1\\" by Hard3eat (Freesound 265575)",
          "source": {
            "repository": "ffont/ismir2016",
            "commit": "2402db5e63e475809c3ca51aeb3781a608770294",
            "path": "data/toy_dataset/audio/wav/265575.wav",
            "licence_stated_in": "data/toy_dataset/licenses.txt"
          }
        }
      ]
    }

``audio`` and ``beats`` are paths relative to DIR. Each clip needs ``bpm`` (a tempo given by
its creator or annotators), ``beats`` (a text file with one annotated beat time in seconds
first on each line), or both; with beats, the truth tempo is their mean rate, as for the
clips in ``tests/data/real``. ``repeat`` (default 1) plays a loop that many times end to end,
for loops shorter than the tempo estimators' useful span; a loop's tempo is the same in every
repetition. ``licence`` must be open (CC0, CC BY or CC BY-SA in some version, or public
domain). ``truth`` says where the tempo or beats come from. Any other shape stops the bench
with the clip and field at fault.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import essentia.standard as es
import numpy as np

from bench._corpus import Clip
from tests.support.audio import encode

__all__ = ["MANIFEST", "ExternalClip", "ManifestError", "load_manifest", "materialise"]

MANIFEST = "corpus.json"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_OPEN_LICENCE = re.compile(r"^(CC0\b|CC BY(-SA)?\b|public domain\b)", re.IGNORECASE)
_CLOSED_TERMS = re.compile(r"\b(NC|ND)\b")
_SOURCE_FIELDS = ("repository", "commit", "path", "licence_stated_in")


class ManifestError(ValueError):
    """The manifest does not describe a usable corpus; the message names what is wrong."""


@dataclass(frozen=True)
class Source:
    repository: str
    commit: str
    path: str
    licence_stated_in: str


@dataclass(frozen=True)
class ExternalClip:
    name: str
    audio: Path
    repeat: int
    bpm: float | None
    beats: tuple[float, ...]
    truth: str
    licence: str
    credit: str
    source: Source


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: '{key}' must be a non-empty string")
    return value


def _file(root: Path, entry: dict[str, Any], key: str, where: str) -> Path:
    relative = _text(entry, key, where)
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ManifestError(f"{where}: '{key}' must stay inside {root}")
    if not path.is_file():
        raise ManifestError(f"{where}: '{key}' names {relative}, which is not a file in {root}")
    return path


def _beats(path: Path, where: str) -> tuple[float, ...]:
    times = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.replace(",", " ").split()
        if not fields:
            continue
        try:
            times.append(float(fields[0]))
        except ValueError:
            raise ManifestError(
                f"{where}: {path.name} line {number} does not start with a time in seconds"
            ) from None
    if len(times) < 2 or any(b <= a for a, b in itertools.pairwise(times)):
        raise ManifestError(f"{where}: {path.name} must hold two or more increasing beat times")
    return tuple(times)


def _source(entry: dict[str, Any], where: str) -> Source:
    source = entry.get("source")
    if not isinstance(source, dict):
        raise ManifestError(f"{where}: 'source' must be an object with {', '.join(_SOURCE_FIELDS)}")
    fields = {key: _text(source, key, f"{where} source") for key in _SOURCE_FIELDS}
    if not _COMMIT.match(fields["commit"]):
        raise ManifestError(f"{where} source: 'commit' must be a full 40-digit commit id")
    return Source(**fields)


def _clip(root: Path, entry: Any, index: int, seen: set[str]) -> ExternalClip:
    if not isinstance(entry, dict):
        raise ManifestError(f"clip {index}: must be an object")
    name = _text(entry, "name", f"clip {index}")
    where = f"clip {index} ({name})"
    if name in seen:
        raise ManifestError(f"{where}: the name is used twice")
    seen.add(name)
    licence = _text(entry, "licence", where)
    if not _OPEN_LICENCE.match(licence) or _CLOSED_TERMS.search(licence):
        raise ManifestError(
            f"{where}: licence {licence!r} is not open (CC0, CC BY, CC BY-SA or public domain)"
        )
    bpm = entry.get("bpm")
    if bpm is not None and (
        isinstance(bpm, bool) or not isinstance(bpm, int | float) or not 20 <= bpm <= 400
    ):
        raise ManifestError(f"{where}: 'bpm' must be a number of beats per minute (20-400)")
    beats: tuple[float, ...] = ()
    if entry.get("beats") is not None:
        beats = _beats(_file(root, entry, "beats", where), where)
    if bpm is None and not beats:
        raise ManifestError(f"{where}: needs 'bpm', 'beats' or both")
    repeat = entry.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 16:
        raise ManifestError(f"{where}: 'repeat' must be a whole number from 1 to 16")
    if beats and repeat != 1:
        raise ManifestError(f"{where}: annotated beats hold for the recording played once")
    return ExternalClip(
        name=name,
        audio=_file(root, entry, "audio", where),
        repeat=repeat,
        bpm=None if bpm is None else float(bpm),
        beats=beats,
        truth=_text(entry, "truth", where),
        licence=licence,
        credit=_text(entry, "credit", where),
        source=_source(entry, where),
    )


def load_manifest(root: Path) -> list[ExternalClip]:
    """The clips ``root/corpus.json`` describes; ManifestError when it is malformed."""
    path = root / MANIFEST
    if not path.is_file():
        raise ManifestError(f"no {MANIFEST} in {root}")
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not valid JSON: {error}") from None
    entries = document.get("clips") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"{path} must be an object whose 'clips' is a non-empty list")
    seen: set[str] = set()
    return [_clip(root, entry, index, seen) for index, entry in enumerate(entries, start=1)]


def materialise(clip: ExternalClip, workdir: Path) -> Clip:
    """The clip as the bench's systems read it: a repeated loop is written out played n times."""
    path = clip.audio
    if clip.repeat > 1:
        audio, rate, *_ = es.AudioLoader(filename=str(clip.audio))()
        looped = np.tile(np.asarray(audio, dtype=np.float32), (clip.repeat, 1))
        path = encode(looped, workdir / f"external_{clip.name}.wav", sample_rate=int(rate))
    return Clip(
        name=clip.name,
        path=path,
        credit=f"{clip.licence} — {clip.credit}",
        bpm=clip.bpm,
        beats=clip.beats,
    )
