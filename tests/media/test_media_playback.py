"""Playback: the owner's upload and its preview stream with Range support; nobody else's do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests
from rest_framework.test import APIClient

from engine.decode import ffmpeg_executable
from engine.preview import transcode_preview
from media.models import MediaFile
from media.preview import media_preview_make
from tests.media.audio import UPLOAD_EXTENSIONS
from tests.media.conftest import MediaDirs, files_under
from tests.support.s3 import S3Server

pytestmark = pytest.mark.django_db


def _stream_body(response) -> bytes:
    return b"".join(response.streaming_content)


def _decoded_seconds(path: Path) -> float:
    """Decode the whole file with ffmpeg and return the length it reports."""
    done = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    last = [line for line in done.stderr.splitlines() if "time=" in line][-1]
    stamp = last.split("time=")[1].split()[0]
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_the_owner_streams_the_upload_with_range_requests(
    api_client: APIClient, upload, audio
) -> None:
    created = upload("tone.wav", audio["wav"]).json()
    url = f"/api/v1/media/{created['id']}/stream/"

    whole = api_client.get(url)
    part = api_client.get(url, HTTP_RANGE="bytes=100-199")
    tail = api_client.get(url, HTTP_RANGE="bytes=-10")

    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "audio/wav"
    assert _stream_body(whole) == audio["wav"]
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(audio['wav'])}"
    assert part["Content-Length"] == "100"
    assert _stream_body(part) == audio["wav"][100:200]
    assert tail.status_code == 206
    assert _stream_body(tail) == audio["wav"][-10:]


def test_a_range_outside_the_file_is_416(api_client: APIClient, upload, audio) -> None:
    created = upload("tone.wav", audio["wav"]).json()

    response = api_client.get(
        f"/api/v1/media/{created['id']}/stream/", HTTP_RANGE=f"bytes={len(audio['wav'])}-"
    )

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(audio['wav'])}"


def test_nobody_else_can_stream_the_upload_or_its_preview(
    api_client: APIClient, other_user, upload, audio
) -> None:
    from accounts.services import api_key_create

    created = upload("tone.wav", audio["wav"]).json()
    media_preview_make(media_id=MediaFile.objects.get(public_id=created["id"]).pk)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=other_user).raw}")

    for path in ("stream", "preview"):
        url = f"/api/v1/media/{created['id']}/{path}/"
        assert api_client.get(url, HTTP_RANGE="bytes=0-9").status_code == 206
        assert stranger.get(url, HTTP_RANGE="bytes=0-9").status_code == 404
        assert APIClient().get(url, HTTP_RANGE="bytes=0-9").status_code in (401, 403)


def test_the_preview_is_opus_in_webm_streams_and_is_deleted_with_its_media(
    api_client: APIClient, upload, audio, media_dirs: MediaDirs, tmp_path: Path
) -> None:
    created = upload("tone.flac", audio["flac"]).json()
    url = f"/api/v1/media/{created['id']}/preview/"
    assert api_client.get(url).status_code == 409

    media = media_preview_make(media_id=MediaFile.objects.get(public_id=created["id"]).pk)

    assert media is not None
    assert media.preview_key.startswith("previews/")
    assert media.preview_content_type == "audio/webm"
    whole = api_client.get(url)
    body = _stream_body(whole)
    assert whole.status_code == 200
    assert body[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a Matroska/WebM file
    copy = tmp_path / "preview.webm"
    copy.write_bytes(body)
    assert _decoded_seconds(copy) == pytest.approx(1.0, abs=0.05)
    assert api_client.get(url, HTTP_RANGE="bytes=10-19").status_code == 206

    assert api_client.delete(f"/api/v1/media/{created['id']}/").status_code == 204
    assert files_under(media_dirs.media_root) == []


def test_a_preview_made_after_the_media_was_deleted_is_not_kept(
    api_client: APIClient, upload, audio, media_dirs: MediaDirs
) -> None:
    created = upload("tone.wav", audio["wav"]).json()
    assert api_client.delete(f"/api/v1/media/{created['id']}/").status_code == 204

    assert media_preview_make(media_id=MediaFile.objects.get(public_id=created["id"]).pk) is None
    assert files_under(media_dirs.media_root) == []


@pytest.mark.parametrize("extension", UPLOAD_EXTENSIONS)
def test_every_accepted_format_transcodes_to_a_preview(
    extension: str, audio, tmp_path: Path
) -> None:
    from engine.decode import sniff_audio_format

    source = tmp_path / f"tone.{extension}"
    source.write_bytes(audio[extension])
    container = sniff_audio_format(audio[extension][:64])
    assert container is not None

    preview = transcode_preview(
        source, input_format=container, output=tmp_path / "out.webm", duration_seconds=1.0
    )

    assert preview.size_bytes > 0
    assert _decoded_seconds(preview.path) == pytest.approx(1.0, abs=0.1)


def test_the_preview_size_is_bounded_by_the_kernel(audio, tmp_path: Path) -> None:
    from engine.errors import EngineError

    source = tmp_path / "tone.wav"
    source.write_bytes(audio["wav"])

    # A claimed duration far below the real one leaves no room: ffmpeg is stopped (SIGXFSZ).
    with pytest.raises(EngineError):
        transcode_preview(
            source,
            input_format="wav",
            output=tmp_path / "out.webm",
            duration_seconds=0.0,
            bit_rate=128_000_000,
        )
    assert not (tmp_path / "out.webm").exists()


@pytest.mark.slow
def test_on_s3_the_stream_redirects_to_a_presigned_url_that_honours_range(
    s3_storage: S3Server, api_client: APIClient, upload, audio
) -> None:
    created = upload("tone.wav", audio["wav"]).json()
    media = media_preview_make(media_id=MediaFile.objects.get(public_id=created["id"]).pk)
    assert media is not None

    for path in ("stream", "preview"):
        response = api_client.get(f"/api/v1/media/{created['id']}/{path}/")
        assert response.status_code == 302
        fetched = requests.get(response["Location"], headers={"Range": "bytes=0-9"}, timeout=10)
        assert fetched.status_code == 206
        assert len(fetched.content) == 10
        assert fetched.headers["Content-Disposition"] == "inline"

    assert api_client.delete(f"/api/v1/media/{created['id']}/").status_code == 204
    client = s3_storage.client()
    for key in (media.storage_key, media.preview_key):
        assert client.list_objects_v2(Bucket=s3_storage.bucket, Prefix=key).get("KeyCount", 0) == 0
    assert MediaFile.objects.get(public_id=created["id"]).status == "deleted"
