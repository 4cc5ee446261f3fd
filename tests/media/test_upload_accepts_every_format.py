from __future__ import annotations

import hashlib

import pytest

from media.models import MediaFile
from tests.media.audio import UPLOAD_EXTENSIONS, sine
from tests.media.conftest import MediaDirs, files_under
from tests.support.audio import encode

EXPECTED = {
    "wav": ("wav", "audio/wav"),
    "mp3": ("mp3", "audio/mpeg"),
    "flac": ("flac", "audio/flac"),
    "ogg": ("ogg", "audio/ogg"),
    "oga": ("ogg", "audio/ogg"),
    "opus": ("ogg", "audio/ogg"),
    "m4a": ("mov", "audio/mp4"),
    "aac": ("aac", "audio/aac"),
    "aif": ("aiff", "audio/aiff"),
    "aiff": ("aiff", "audio/aiff"),
}


@pytest.mark.parametrize("extension", sorted(UPLOAD_EXTENSIONS))
def test_upload_accepts_real_audio_of_every_allowed_format(
    upload, audio, media_dirs: MediaDirs, extension: str
):
    content = audio[extension]

    response = upload(f"Tone.{extension}", content)

    assert response.status_code == 201, response.content
    body = response.json()
    container, content_type = EXPECTED[extension]
    assert body["status"] == "ready"
    assert body["display_name"] == f"Tone.{extension}"
    assert body["container"] == container
    assert body["content_type"] == content_type
    assert body["size_bytes"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["duration_seconds"] == pytest.approx(1.0, abs=0.1)
    assert body["channels"] == 2
    assert body["sample_rate"] in (44100, 48000)
    media = MediaFile.objects.get(public_id=body["id"])
    stored = files_under(media_dirs.media_root)
    assert stored == [media_dirs.media_root / media.storage_key]
    assert stored[0].read_bytes() == content
    assert files_under(media_dirs.upload_temp) == []


@pytest.mark.parametrize("extension", sorted(UPLOAD_EXTENSIONS))
def test_upload_accepts_twenty_seconds_of_every_allowed_format(upload, tmp_path, extension: str):
    # Long enough that the check of the file's last second reads well past the first seconds.
    content = encode(sine(20.0), tmp_path / f"song.{extension}").read_bytes()

    response = upload(f"Song.{extension}", content)

    assert response.status_code == 201, response.content
    assert response.json()["duration_seconds"] == pytest.approx(20.0, abs=0.1)


def test_upload_accepts_a_whole_variable_bit_rate_mp3(upload, tmp_path):
    # Its frames' rates vary around the average its Xing header declares; none of it is missing.
    mp3 = encode(sine(20.0), tmp_path / "vbr.mp3", encoder_options=["-q:a", "4"])

    response = upload("vbr.mp3", mp3.read_bytes())

    assert response.status_code == 201, response.content
    assert response.json()["duration_seconds"] == pytest.approx(20.0, abs=0.1)
