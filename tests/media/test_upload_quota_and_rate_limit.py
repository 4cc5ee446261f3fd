from __future__ import annotations

from media.models import MediaFile
from tests.media.conftest import MediaDirs, files_under
from tests.media.factories import MediaFileFactory


def test_upload_over_the_storage_quota_is_refused_with_413(
    settings, user, upload, audio, media_dirs: MediaDirs
):
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 1_000_000
    MediaFileFactory.create(owner=user, size_bytes=900_000)

    response = upload("tone.wav", audio["wav"])

    assert response.status_code == 413
    assert response.json()["code"] == "quota_exceeded"
    assert response.json()["used_bytes"] == 900_000
    assert files_under(media_dirs.media_root) == []


def test_deleted_and_rejected_files_do_not_count_against_the_quota(settings, user, upload, audio):
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 1_000_000
    MediaFileFactory.create(owner=user, size_bytes=900_000, status=MediaFile.Status.DELETED)
    MediaFileFactory.create(
        owner=user, size_bytes=900_000, status=MediaFile.Status.REJECTED, storage_key=""
    )

    response = upload("tone.wav", audio["wav"])

    assert response.status_code == 201


def test_uploads_past_the_hourly_limit_get_429_with_retry_after(settings, upload, audio):
    settings.PHONOGLYPH_UPLOADS_PER_HOUR = 2

    statuses = [upload("tone.wav", audio["wav"]).status_code for _ in range(2)]
    refused = upload("tone.wav", audio["wav"])

    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 3600


def test_the_upload_rate_limit_is_per_user(settings, upload, audio, other_user):
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    settings.PHONOGLYPH_UPLOADS_PER_HOUR = 1
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=other_user).raw}")

    assert upload("tone.wav", audio["wav"]).status_code == 201
    assert upload("tone.wav", audio["wav"]).status_code == 429
    assert upload("tone.wav", audio["wav"], client=other).status_code == 201
