"""Uploads are audio: a large non-audio payload (tags, pictures, chunks) is refused."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from media.errors import ExcessiveMetadata
from media.metadata import metadata_bytes
from media.models import MediaFile
from media.services import media_upload
from media.upload import ReceivedUpload
from tests.media.audio import sine, wav_with_extra_chunk
from tests.media.conftest import MediaDirs, files_under
from tests.support.audio import encode

MB = 1024 * 1024
BLOCK = b"\0" * MB


def _write_zeros(handle, size: int) -> None:
    for _ in range(size // MB):
        handle.write(BLOCK)
    handle.write(b"\0" * (size % MB))


def _wav_with_big_list_chunk(tmp_path: Path, payload_bytes: int) -> Path:
    """0.5 s of audio after a LIST chunk of `payload_bytes`, written a megabyte at a time."""
    tone = encode(sine(0.5), tmp_path / "tone.wav").read_bytes()
    fmt_and_data = tone[12:]
    path = tmp_path / "big-list.wav"
    with path.open("wb") as handle:
        riff_size = 4 + 8 + payload_bytes + len(fmt_and_data)
        handle.write(b"RIFF" + struct.pack("<I", riff_size) + b"WAVE")
        handle.write(b"LIST" + struct.pack("<I", payload_bytes))
        _write_zeros(handle, payload_bytes)
        handle.write(fmt_and_data)
    return path


def _syncsafe(size: int) -> bytes:
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _mp3_behind_a_picture(tmp_path: Path, picture_bytes: int) -> Path:
    """An MP3 after an ID3v2.4 tag holding one APIC frame of `picture_bytes`."""
    mp3 = encode(sine(1.0), tmp_path / "tone.mp3").read_bytes()
    frame_body_size = 1 + len(b"image/jpeg\0") + 1 + 1 + picture_bytes
    tag_size = 10 + frame_body_size
    path = tmp_path / "picture.mp3"
    with path.open("wb") as handle:
        handle.write(b"ID3\x04\x00\x00" + _syncsafe(tag_size))
        handle.write(b"APIC" + _syncsafe(frame_body_size) + b"\x00\x00")
        handle.write(b"\x00image/jpeg\x00\x03\x00")
        _write_zeros(handle, picture_bytes)
        handle.write(mp3)
    return path


def _received(path: Path, name: str) -> ReceivedUpload:
    """The upload as the request handler leaves it: a temporary file copied in chunks."""
    temporary = TemporaryUploadedFile(name, "application/octet-stream", 0, None)
    with path.open("rb") as source:
        shutil.copyfileobj(source, temporary, MB)
    temporary.seek(0)
    size = path.stat().st_size
    temporary.size = size
    return ReceivedUpload(
        file=temporary, original_name=name, size_bytes=size, sha256="0" * 64, too_large=False
    )


@pytest.fixture
def generous_limits(settings) -> None:
    settings.PHONOGLYPH_MAX_UPLOAD_BYTES = 200 * MB
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 1024 * MB


@pytest.mark.slow
def test_a_wav_with_a_100_mb_list_chunk_is_refused_and_not_stored(
    generous_limits, user, tmp_path: Path, media_dirs: MediaDirs
):
    path = _wav_with_big_list_chunk(tmp_path, 100 * MB)
    with pytest.raises(ExcessiveMetadata) as refused:
        media_upload(user=user, upload=_received(path, "song.wav"))
    assert refused.value.extra["metadata_bytes"] >= 100 * MB
    assert files_under(media_dirs.media_root) == []
    rejected = MediaFile.objects.get(owner=user)
    assert rejected.status == MediaFile.Status.REJECTED
    assert rejected.rejection_code == "excessive_metadata"


@pytest.mark.slow
def test_an_mp3_behind_a_50_mb_id3_picture_is_refused_and_not_stored(
    generous_limits, user, tmp_path: Path, media_dirs: MediaDirs
):
    path = _mp3_behind_a_picture(tmp_path, 50 * MB)
    assert metadata_bytes(path=path, container="mp3") > 50 * MB
    with pytest.raises(ExcessiveMetadata):
        media_upload(user=user, upload=_received(path, "song.mp3"))
    assert files_under(media_dirs.media_root) == []


def test_the_api_refuses_excess_metadata_with_a_clear_code(upload, audio, media_dirs):
    padded = wav_with_extra_chunk(audio["wav"], b"junk", b"\0" * (2 * MB))
    response = upload("tone.wav", padded)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "excessive_metadata"
    assert body["metadata_bytes"] > 2 * MB
    assert body["max_metadata_bytes"] == MB
    assert files_under(media_dirs.media_root) == []


def test_a_small_cover_picture_is_accepted_and_stored_as_validated(
    upload, tmp_path: Path, media_dirs: MediaDirs
):
    path = _mp3_behind_a_picture(tmp_path, 200 * 1024)
    content = path.read_bytes()
    response = upload("song.mp3", content)
    assert response.status_code == 201, response.content
    (stored,) = files_under(media_dirs.media_root)
    assert stored.read_bytes() == content


@pytest.mark.parametrize("extension", ["wav", "mp3", "flac", "m4a", "aiff"])
def test_plain_encoded_audio_carries_almost_no_metadata(tmp_path: Path, extension: str) -> None:
    path = encode(sine(3.0), tmp_path / f"tone.{extension}")
    container = {"m4a": "mov"}.get(extension, extension)
    assert metadata_bytes(path=path, container=container) < 16 * 1024
