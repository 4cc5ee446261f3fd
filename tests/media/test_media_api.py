from __future__ import annotations

import hashlib

from rest_framework.test import APIClient

from media.models import MediaFile
from tests.media.conftest import MediaDirs, files_under
from tests.media.factories import MediaFileFactory


def test_media_list_is_paginated_newest_first_and_only_the_callers(
    api_client: APIClient, user, other_user
):
    older = MediaFileFactory.create(owner=user)
    newer = MediaFileFactory.create(owner=user)
    MediaFileFactory.create(owner=other_user)
    MediaFileFactory.create(owner=user, status=MediaFile.Status.DELETED)

    response = api_client.get("/api/v1/media/", {"page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(newer.public_id)]
    second = api_client.get("/api/v1/media/", {"page_size": 1, "page": 2}).json()
    assert [item["id"] for item in second["results"]] == [str(older.public_id)]


def test_media_detail_of_another_users_file_is_404(api_client: APIClient, other_user):
    theirs = MediaFileFactory.create(owner=other_user)

    for method in ("get", "delete"):
        response = getattr(api_client, method)(f"/api/v1/media/{theirs.public_id}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    download = api_client.get(f"/api/v1/media/{theirs.public_id}/download/")
    assert download.status_code == 404
    assert MediaFile.objects.get(pk=theirs.pk).status == MediaFile.Status.READY


def test_media_api_requires_authentication(anon_client: APIClient):
    assert anon_client.get("/api/v1/media/").status_code == 401
    assert anon_client.post("/api/v1/media/").status_code == 401


def test_uploaded_media_can_be_read_downloaded_and_deleted(
    api_client: APIClient, upload, audio, media_dirs: MediaDirs
):
    created = upload("My Song.flac", audio["flac"]).json()

    detail = api_client.get(f"/api/v1/media/{created['id']}/").json()
    # The upload's answer is the file, and what it started (nothing was asked for here).
    assert {**detail, "follow_ups": {}} == created
    assert detail["download_url"] == f"/api/v1/media/{created['id']}/download/"

    download = api_client.get(detail["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "audio/flac"
    assert download["Content-Disposition"] == 'attachment; filename="My Song.flac"'
    content = download.getvalue()
    assert hashlib.sha256(content).hexdigest() == created["sha256"]

    deleted = api_client.delete(f"/api/v1/media/{created['id']}/")
    assert deleted.status_code == 204
    assert files_under(media_dirs.media_root) == []
    media = MediaFile.objects.get(public_id=created["id"])
    assert media.status == MediaFile.Status.DELETED
    assert media.deleted_at is not None
    assert api_client.get(f"/api/v1/media/{created['id']}/").status_code == 404


def test_a_rejected_upload_is_listed_with_its_reason_but_cannot_be_downloaded(
    api_client: APIClient, upload
):
    upload("notes.mp3", b"just some text, not audio\n")

    listed = api_client.get("/api/v1/media/").json()["results"]
    assert len(listed) == 1
    assert listed[0]["status"] == "rejected"
    assert listed[0]["rejection_code"] == "content_mismatch"
    assert listed[0]["download_url"] is None
    download = api_client.get(f"/api/v1/media/{listed[0]['id']}/download/")
    assert download.status_code == 409
    assert download.json()["code"] == "media_not_available"


def test_upload_honours_idempotency_keys(api_client: APIClient, audio):
    from tests.media.conftest import multipart

    body, content_type = multipart("tone.wav", audio["wav"])
    headers = {"Idempotency-Key": "upload-1"}

    first, again = (
        api_client.generic(
            "POST",
            "/api/v1/media/",
            body,  # type: ignore[arg-type]  # Django sends bytes as is; the stub says str
            content_type=content_type,
            headers=headers,
        )
        for _ in range(2)
    )

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert MediaFile.objects.count() == 1


def test_reusing_an_idempotency_key_with_a_different_file_is_refused(api_client: APIClient, audio):
    from tests.media.conftest import multipart

    responses = []
    for extension in ("wav", "flac"):
        body, content_type = multipart("tone." + extension, audio[extension])
        responses.append(
            api_client.generic(
                "POST",
                "/api/v1/media/",
                body,  # type: ignore[arg-type]  # Django sends bytes as is; the stub says str
                content_type=content_type,
                headers={"Idempotency-Key": "upload-2"},
            )
        )

    assert [response.status_code for response in responses] == [201, 422]
    assert responses[1].json()["code"] == "idempotency_key_reused"
    assert MediaFile.objects.count() == 1
