"""How many bytes of an upload are not audio: tags, pictures, padding, unknown chunks.

An audio upload may carry some metadata (a title, a cover), but not a payload of its own:
a WAV with 0.5 s of sound and a 100 MB `LIST` chunk, or an MP3 behind a 50 MB ID3 picture,
would otherwise be stored whole. The walk reads only chunk headers, seeking past payloads, so
it costs a few reads whatever the file's size. Ogg and ADTS AAC carry their tags inside the
stream and are not measured here; their size is still bounded by the upload limit.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from media.errors import ExcessiveMetadata

WAV_AUDIO_CHUNKS = frozenset({b"fmt ", b"data", b"fact"})
AIFF_AUDIO_CHUNKS = frozenset({b"COMM", b"SSND", b"FVER"})
# STREAMINFO and SEEKTABLE describe the audio; every other FLAC block is metadata or padding.
FLAC_AUDIO_BLOCKS = frozenset({0, 3})
MP4_METADATA_ATOMS = frozenset({b"udta", b"meta", b"free", b"skip", b"uuid"})
# A file with more chunks than this is refused as metadata outright: nothing real has them.
MAX_CHUNKS = 10_000


def metadata_bytes(*, path: Path, container: str) -> int:
    """Return how many bytes of the file at `path` are not audio (0 when not measured)."""
    with path.open("rb") as handle:
        if container == "wav":
            return _riff_like(handle, start=12, audio=WAV_AUDIO_CHUNKS, size_format="<I")
        if container == "aiff":
            return _riff_like(handle, start=12, audio=AIFF_AUDIO_CHUNKS, size_format=">I")
        if container == "mp3":
            return _id3v2(handle)
        if container == "flac":
            return _flac(handle)
        if container == "mov":
            return _mp4(handle)
    return 0


def validate_metadata_budget(*, path: Path, container: str, size_bytes: int) -> None:
    """Refuse (422 excessive_metadata) a file whose non-audio bytes exceed the budget.

    The budget is the larger of PHONOGLYPH_MAX_METADATA_BYTES and
    PHONOGLYPH_MAX_METADATA_FRACTION of the file.
    """
    found = metadata_bytes(path=path, container=container)
    budget = max(
        settings.PHONOGLYPH_MAX_METADATA_BYTES,
        int(size_bytes * settings.PHONOGLYPH_MAX_METADATA_FRACTION),
    )
    if found > budget:
        raise ExcessiveMetadata(
            f"The file carries {found:,} bytes that are not audio (tags, pictures or other "
            f"data); at most {budget:,} are accepted. Remove them and upload it again.",
            extra={"metadata_bytes": found, "max_metadata_bytes": budget},
        )


def _riff_like(handle: BinaryIO, *, start: int, audio: frozenset[bytes], size_format: str) -> int:
    total = handle.seek(0, 2)
    position, found = start, 0
    for _ in range(MAX_CHUNKS):
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return found
        (size,) = struct.unpack(size_format, header[4:8])
        span = 8 + size + (size % 2)
        if header[:4] not in audio:
            found += min(span, total - position)
        position += span
    return total


def _id3v2(handle: BinaryIO) -> int:
    """Bytes of the ID3v2 tags before the first MPEG frame (writers may chain several)."""
    position = 0
    for _ in range(MAX_CHUNKS):
        handle.seek(position)
        header = handle.read(10)
        if len(header) < 10 or header[:3] != b"ID3":
            return position
        size = 0
        for byte in header[6:10]:
            size = (size << 7) | (byte & 0x7F)
        footer = 10 if header[5] & 0x10 else 0
        position += 10 + size + footer
    return position


def _flac(handle: BinaryIO) -> int:
    handle.seek(4)
    found = 0
    for _ in range(MAX_CHUNKS):
        header = handle.read(4)
        if len(header) < 4:
            return found
        kind, size = header[0] & 0x7F, int.from_bytes(header[1:4], "big")
        if kind not in FLAC_AUDIO_BLOCKS:
            found += 4 + size
        if header[0] & 0x80:
            return found
        handle.seek(size, 1)
    return found


def _mp4(handle: BinaryIO) -> int:
    total = handle.seek(0, 2)
    return _mp4_atoms(handle, start=0, end=total, depth=0)


def _mp4_atoms(handle: BinaryIO, *, start: int, end: int, depth: int) -> int:
    position, found = start, 0
    for _ in range(MAX_CHUNKS):
        if position + 8 > end:
            return found
        handle.seek(position)
        header = handle.read(8)
        size, kind = struct.unpack(">I", header[:4])[0], header[4:8]
        header_size = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header_size = 16
        elif size == 0:
            size = end - position
        if size < header_size:
            return found + (end - position)
        if kind in MP4_METADATA_ATOMS:
            found += size
        elif kind in {b"moov", b"trak"} and depth < 2:
            found += _mp4_atoms(
                handle, start=position + header_size, end=position + size, depth=depth + 1
            )
        position += size
    return found
