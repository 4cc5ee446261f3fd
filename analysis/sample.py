"""The sample track: a bundled recording a new account may analyse once, free of charge.

The recording is GuitarSet's `00_BN1-129-Eb_comp` (CC BY 4.0, see sample_track/CREDITS.md).
Its licence asks for credit, so every page that shows it or an analysis of it shows
`SAMPLE_TRACK.credit`; the pages recognise it by its content hash, whoever uploaded it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SampleTrack:
    path: Path
    # The name the file gets in the owner's library.
    display_name: str
    credit: str
    licence_url: str


SAMPLE_TRACK = SampleTrack(
    path=Path(__file__).resolve().parent / "sample_track" / "guitarset_00_BN1-129-Eb_comp_mic.flac",
    display_name="Sample track - GuitarSet bossa nova comping in Eb.flac",
    credit=(
        "“00_BN1-129-Eb_comp” from GuitarSet by Q. Xi, R. Bittner, J. Pauwels, X. Ye and "
        "J. P. Bello (ISMIR 2018), licensed under CC BY 4.0"
    ),
    licence_url="https://creativecommons.org/licenses/by/4.0/",
)


@functools.cache
def sample_track_sha256() -> str:
    """The SHA-256 of the bundled file, as an upload of it records it."""
    return hashlib.sha256(SAMPLE_TRACK.path.read_bytes()).hexdigest()


def sample_track_is(*, sha256: str) -> bool:
    """Whether audio with this content hash is the sample track."""
    return sha256 == sample_track_sha256()
