"""Every item of a list, and every response, shows its own object's values and links."""

from __future__ import annotations

import pytest

from media.models import MediaFile
from tests.media.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def test_each_listed_media_file_carries_its_own_fields_and_links(api_client, user):
    ready = MediaFileFactory.create(owner=user, display_name="ready.wav", preview_key="p.webm")
    rejected = MediaFileFactory.create(
        owner=user,
        display_name="refused.mp3",
        status=MediaFile.Status.REJECTED,
        rejection_code="content_mismatch",
    )
    listed = {
        item["display_name"]: item for item in api_client.get("/api/v1/media/").json()["results"]
    }
    assert listed["ready.wav"]["id"] == str(ready.public_id)
    assert str(ready.public_id) in listed["ready.wav"]["download_url"]
    assert str(ready.public_id) in listed["ready.wav"]["preview_url"]
    assert listed["refused.mp3"]["id"] == str(rejected.public_id)
    assert listed["refused.mp3"]["download_url"] is None
    assert listed["refused.mp3"]["preview_url"] is None
    assert listed["refused.mp3"]["rejection_code"] == "content_mismatch"
    # One object at a time, in either order, answers the same.
    for media in (rejected, ready, rejected):
        detail = api_client.get(f"/api/v1/media/{media.public_id}/").json()
        assert detail == listed[media.display_name]
