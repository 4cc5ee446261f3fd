"""Client file names never reach storage paths; they are sanitised for display only."""

from __future__ import annotations

import re

from media.models import MediaFile
from tests.media.conftest import MediaDirs, files_under

STORAGE_KEY = re.compile(r"^audio/[0-9a-f]{32}\.wav$")


def test_upload_stores_a_wav_named_with_path_traversal_under_a_random_key(
    upload, audio, media_dirs: MediaDirs
):
    response = upload("../../etc/passwd.wav", audio["wav"])

    assert response.status_code == 201, response.content
    media = MediaFile.objects.get(public_id=response.json()["id"])
    assert STORAGE_KEY.match(media.storage_key)
    assert media.display_name == "passwd.wav"
    assert files_under(media_dirs.media_root) == [media_dirs.media_root / media.storage_key]


def test_upload_accepts_a_wav_with_a_nul_and_300_characters_in_its_name(
    upload, audio, media_dirs: MediaDirs
):
    name = "a" * 150 + "\x00" + "b" * 150 + ".wav"

    response = upload(name, audio["wav"])

    assert response.status_code == 201, response.content
    media = MediaFile.objects.get(public_id=response.json()["id"])
    assert STORAGE_KEY.match(media.storage_key)
    assert "\x00" not in media.display_name
    assert len(media.display_name) == 255
    assert media.display_name.startswith("a" * 150 + "b")
    assert media.display_name.endswith("b.wav")
    assert files_under(media_dirs.media_root) == [media_dirs.media_root / media.storage_key]


def test_upload_rejects_a_valid_wav_named_dot_exe(upload, audio, media_dirs: MediaDirs):
    response = upload(".exe", audio["wav"])

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_extension"
    assert ".exe" in response.json()["detail"]
    assert files_under(media_dirs.media_root) == []


def test_upload_rejects_a_valid_wav_renamed_to_an_executable_extension(upload, audio, media_dirs):
    response = upload("song.wav.exe", audio["wav"])

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_extension"
    assert files_under(media_dirs.media_root) == []


def test_upload_ignores_the_client_content_type_and_stores_the_detected_one(upload, audio):
    # The helper declares every part as text/html.
    response = upload("tone.mp3", audio["mp3"])

    assert response.status_code == 201
    assert response.json()["content_type"] == "audio/mpeg"
