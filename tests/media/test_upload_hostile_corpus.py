"""Hostile uploads: each is refused with its exact status and code, and nothing is stored."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import pytest

from media.models import MediaFile, UploadRejection
from tests.media.audio import EICAR, elf_binary, sine, wav_with_riff_size
from tests.media.conftest import MediaDirs, files_under
from tests.support.audio import encode

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1"/></svg>\n'
)
HLS_PLAYLIST = (
    b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n"
    b"#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data/\n#EXT-X-ENDLIST\n"
)


def _zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("track.wav", b"RIFF" + b"\0" * 100)
    return buffer.getvalue()


def assert_refused(response, media_dirs: MediaDirs, *, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["detail"]
    assert files_under(media_dirs.media_root) == []
    assert files_under(media_dirs.upload_temp) == []
    rejection = UploadRejection.objects.get()
    assert rejection.code == code
    media = MediaFile.objects.get()
    assert media.status == MediaFile.Status.REJECTED
    assert media.rejection_code == code
    assert media.storage_key == ""
    return dict(problem)


def test_upload_rejects_html_renamed_as_mp3(upload, media_dirs):
    problem = assert_refused(
        upload("song.mp3", HTML), media_dirs, status=415, code="content_mismatch"
    )
    assert "HTML document" in problem["detail"]


def test_upload_rejects_svg_renamed_as_mp3(upload, media_dirs):
    problem = assert_refused(
        upload("song.mp3", SVG), media_dirs, status=415, code="content_mismatch"
    )
    assert "SVG image" in problem["detail"]


def test_upload_rejects_hls_playlist_renamed_as_mp3(upload, media_dirs):
    problem = assert_refused(
        upload("song.mp3", HLS_PLAYLIST), media_dirs, status=415, code="content_mismatch"
    )
    assert "playlist" in problem["detail"]


def test_upload_rejects_zip_renamed_as_wav(upload, media_dirs):
    problem = assert_refused(
        upload("song.wav", _zip_archive()), media_dirs, status=415, code="content_mismatch"
    )
    assert "ZIP archive" in problem["detail"]


def test_upload_rejects_elf_binary_renamed_as_flac(upload, media_dirs):
    problem = assert_refused(
        upload("song.flac", elf_binary()), media_dirs, status=415, code="content_mismatch"
    )
    assert "ELF executable" in problem["detail"]


def test_upload_rejects_eicar_renamed_as_mp3_by_content_sniffing(upload, media_dirs):
    problem = assert_refused(
        upload("song.mp3", EICAR), media_dirs, status=415, code="content_mismatch"
    )
    assert "plain text" in problem["detail"]


def test_upload_rejects_flac_audio_named_as_mp3(upload, audio, media_dirs):
    problem = assert_refused(
        upload("song.mp3", audio["flac"]), media_dirs, status=415, code="content_mismatch"
    )
    assert "FLAC audio" in problem["detail"]


def test_upload_rejects_an_empty_file(upload, media_dirs):
    assert_refused(upload("song.wav", b""), media_dirs, status=400, code="empty_file")


def test_upload_rejects_a_truncated_mp3(upload, audio, media_dirs):
    mp3 = audio["mp3"]
    # The ID3 tag and the start of the first frame, as left by an upload cut short.
    assert mp3[:3] == b"ID3"
    id3_size = 10 + ((mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9])
    truncated = mp3[: id3_size + 200]

    assert_refused(upload("song.mp3", truncated), media_dirs, status=422, code="undecodable_audio")


def test_upload_rejects_an_mp3_whose_header_promises_far_more_audio_than_it_holds(
    upload, media_dirs, tmp_path
):
    long_mp3 = encode(sine(60.0, channels=1), tmp_path / "long.mp3").read_bytes()

    assert_refused(
        upload("song.mp3", long_mp3[:2000]), media_dirs, status=422, code="undecodable_audio"
    )


@pytest.mark.parametrize(
    ("extension", "encoder_options"),
    [
        pytest.param("mp3", ["-b:a", "128k"], id="mp3 constant bit rate"),
        pytest.param("mp3", ["-q:a", "4"], id="mp3 variable bit rate"),
        pytest.param("flac", [], id="flac"),
    ],
)
def test_upload_rejects_a_file_cut_off_halfway_whose_header_states_its_length(
    upload, media_dirs, tmp_path, extension: str, encoder_options: list[str]
):
    whole = encode(
        sine(20.0), tmp_path / f"song.{extension}", encoder_options=encoder_options
    ).read_bytes()

    problem = assert_refused(
        upload(f"song.{extension}", whole[: len(whole) // 2]),
        media_dirs,
        status=422,
        code="undecodable_audio",
    )
    assert "truncated" in problem["detail"]


def test_upload_rejects_a_wav_whose_riff_header_claims_4_gb(upload, audio, media_dirs):
    forged = wav_with_riff_size(audio["wav"], 0xFFFFFFF0)

    problem = assert_refused(
        upload("song.wav", forged), media_dirs, status=422, code="undecodable_audio"
    )
    assert "4.0 GB" in problem["detail"]


def test_upload_rejects_a_three_hour_silent_flac_from_its_container_quickly(
    upload, three_hour_flac, media_dirs
):
    assert len(three_hour_flac) < 2 * 1024 * 1024
    started = time.monotonic()

    problem = assert_refused(
        upload("silence.flac", three_hour_flac), media_dirs, status=422, code="duration_exceeded"
    )

    # Judged from the container: decoding three hours would take far longer than this.
    assert time.monotonic() - started < 10
    assert problem["duration_seconds"] == pytest.approx(10800, abs=1)
    assert problem["max_duration_seconds"] == 1800


def test_upload_rejects_audio_with_an_absurd_sample_rate(upload, media_dirs, tmp_path):
    path = encode(sine(1.0, sample_rate=2000, channels=1), tmp_path / "low.wav", sample_rate=2000)

    problem = assert_refused(
        upload("low.wav", path.read_bytes()), media_dirs, status=422, code="unsupported_audio"
    )
    assert "2000 Hz" in problem["detail"]


def test_a_probe_that_runs_out_of_time_is_refused_as_undecodable_not_a_crash(
    settings, upload, audio, media_dirs
):
    settings.PHONOGLYPH_PROBE_TIMEOUT_SECONDS = 0.001

    problem = assert_refused(
        upload("tone.flac", audio["flac"]), media_dirs, status=422, code="undecodable_audio"
    )
    assert "too long" in problem["detail"]
