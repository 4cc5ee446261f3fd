"""Size is enforced while the request streams; oversized bodies are never stored."""

from __future__ import annotations

from media.models import UploadRejection
from media.upload import MULTIPART_OVERHEAD_BYTES
from tests.media.audio import sine
from tests.media.conftest import MediaDirs, files_under
from tests.support.audio import encode


def test_upload_stops_reading_a_file_past_the_limit_with_413(
    settings, upload, media_dirs: MediaDirs, tmp_path
):
    settings.PHONOGLYPH_MAX_UPLOAD_BYTES = 64 * 1024
    # Over the limit, but within the multipart allowance: the handler must stop it mid-stream.
    wav = encode(sine(0.5), tmp_path / "half.wav").read_bytes()
    assert 64 * 1024 < len(wav) < 64 * 1024 + MULTIPART_OVERHEAD_BYTES

    response = upload("half.wav", wav)

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["max_bytes"] == 64 * 1024
    assert files_under(media_dirs.media_root) == []
    assert files_under(media_dirs.upload_temp) == []
    assert UploadRejection.objects.get().code == "file_too_large"


def test_upload_refuses_a_declared_length_over_the_limit_before_reading_it(
    settings, upload, audio, media_dirs: MediaDirs
):
    settings.PHONOGLYPH_MAX_UPLOAD_BYTES = 16 * 1024
    big = audio["wav"] * 2
    assert len(big) > 16 * 1024 + MULTIPART_OVERHEAD_BYTES

    response = upload("big.wav", big)

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert files_under(media_dirs.media_root) == []
    assert files_under(media_dirs.upload_temp) == []


def test_upload_without_a_file_field_is_a_400(upload, audio):
    response = upload("tone.wav", audio["wav"], field="audio")

    assert response.status_code == 400
    assert response.json()["code"] == "missing_file"


def test_upload_size_limit_settings_keep_request_bodies_out_of_memory(settings):
    assert settings.FILE_UPLOAD_HANDLERS == [
        "django.core.files.uploadhandler.TemporaryFileUploadHandler"
    ]
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024


def test_upload_refuses_non_multipart_bodies_without_parsing_them(api_client):
    response = api_client.post(
        "/api/v1/media/", data='{"file": "' + "A" * 10000 + '"}', content_type="application/json"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
