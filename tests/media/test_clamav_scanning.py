"""Virus scanning through a real clamd, failing closed when it cannot answer."""

from __future__ import annotations

import pytest

from media.models import MediaFile, UploadRejection
from tests.media.audio import EICAR, wav_with_extra_chunk
from tests.media.conftest import Clamd, MediaDirs, files_under, free_port

pytestmark = pytest.mark.slow


def test_upload_with_eicar_hidden_in_a_valid_wav_is_refused_as_malware(
    settings, clamd: Clamd, upload, audio, media_dirs: MediaDirs
):
    settings.CLAMAV_URL = clamd.tcp_url
    infected = wav_with_extra_chunk(audio["wav"], b"note", EICAR)

    response = upload("tone.wav", infected)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "malware_detected"
    assert "Phonoglyph.Test.EICAR" in response.json()["detail"]
    assert files_under(media_dirs.media_root) == []
    assert files_under(media_dirs.upload_temp) == []
    assert UploadRejection.objects.get().code == "malware_detected"


def test_upload_with_eicar_appended_after_the_wav_data_is_refused_as_malware(
    settings, clamd: Clamd, upload, audio, media_dirs: MediaDirs
):
    settings.CLAMAV_URL = clamd.tcp_url

    response = upload("tone.wav", audio["wav"] + EICAR)

    assert response.status_code == 422
    assert response.json()["code"] == "malware_detected"
    assert files_under(media_dirs.media_root) == []


def test_a_clean_upload_passes_the_scan(settings, clamd: Clamd, upload, audio):
    settings.CLAMAV_URL = clamd.tcp_url

    response = upload("tone.opus", audio["opus"])

    assert response.status_code == 201
    assert MediaFile.objects.get().status == MediaFile.Status.READY


def test_the_scanner_can_be_reached_over_a_unix_socket(settings, clamd: Clamd, upload, audio):
    settings.CLAMAV_URL = clamd.unix_url

    clean = upload("tone.wav", audio["wav"])
    infected = upload("tone.wav", wav_with_extra_chunk(audio["wav"], b"note", EICAR))

    assert clean.status_code == 201
    assert infected.status_code == 422
    assert infected.json()["code"] == "malware_detected"


def test_eicar_renamed_as_mp3_is_refused_by_sniffing_before_the_scan(
    settings, clamd: Clamd, upload
):
    settings.CLAMAV_URL = clamd.tcp_url

    response = upload("song.mp3", EICAR)

    assert response.status_code == 415
    assert response.json()["code"] == "content_mismatch"


def test_an_unreachable_scanner_refuses_uploads_with_503(
    settings, upload, audio, media_dirs: MediaDirs, caplog
):
    settings.CLAMAV_URL = f"tcp://127.0.0.1:{free_port()}"

    response = upload("tone.wav", audio["wav"])

    assert response.status_code == 503
    assert response.json()["code"] == "scanner_unavailable"
    assert files_under(media_dirs.media_root) == []
    assert any(
        record.levelname == "ERROR" and "virus scanner unavailable" in record.getMessage()
        for record in caplog.records
    )


def test_a_malformed_scanner_url_refuses_uploads_with_503(settings, upload, audio):
    settings.CLAMAV_URL = "clamd.example:3310"

    response = upload("tone.wav", audio["wav"])

    assert response.status_code == 503
    assert response.json()["code"] == "scanner_unavailable"
