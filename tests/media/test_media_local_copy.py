"""What the analysis app uses to decode stored audio."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from engine.decode import probe_audio
from media.errors import MediaNotAvailable, MediaNotFound
from media.models import MediaFile
from media.selectors import media_get_for_user, media_open_local_copy
from tests.media.factories import MediaFileFactory


def test_a_local_copy_on_disk_storage_is_the_stored_file_and_decodes(user, upload, audio):
    media_id = upload("tone.m4a", audio["m4a"]).json()["id"]
    media = media_get_for_user(user=user, public_id=UUID(media_id))

    with media_open_local_copy(media=media) as local:
        assert local.input_format == "mov"
        probe = probe_audio(local.path, input_format=local.input_format)

    assert probe.duration == pytest.approx(1.0, abs=0.1)
    assert local.path.exists()


def test_rejected_media_has_no_local_copy(user):
    media = MediaFileFactory.create(owner=user, status=MediaFile.Status.REJECTED, storage_key="")

    with pytest.raises(MediaNotAvailable), media_open_local_copy(media=media):
        pass


def test_media_get_for_user_hides_other_users_and_deleted_media(user, other_user):
    theirs = MediaFileFactory.create(owner=other_user)
    deleted = MediaFileFactory.create(owner=user, status=MediaFile.Status.DELETED)

    for public_id in (theirs.public_id, deleted.public_id, uuid4()):
        with pytest.raises(MediaNotFound) as missing:
            media_get_for_user(user=user, public_id=public_id)
        assert missing.value.status == 404
