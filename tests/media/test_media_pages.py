from __future__ import annotations

from django.test import Client

from media.models import MediaFile
from tests.factories import DEFAULT_PASSWORD
from tests.media.conftest import MediaDirs, files_under, multipart
from tests.media.factories import MediaFileFactory


def _logged_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    assert client.login(email=user.email, password=DEFAULT_PASSWORD)
    return client


def _csrf_token(client: Client) -> str:
    page = client.get("/media/upload/")
    return str(page.cookies["csrftoken"].value)


def test_the_upload_page_shows_a_form_that_works_without_javascript(user):
    client = _logged_in(user)

    page = client.get("/media/upload/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'action="/media/upload/"' in html
    assert 'data-api-url="/api/v1/media/"' in html
    assert "js/media-upload.js" in html
    assert "<progress" in html
    assert 'href="/media/"' in html  # the Library nav link


def test_uploading_through_the_plain_form_redirects_to_the_media_page(user, audio):
    client = _logged_in(user, enforce_csrf=True)
    token = _csrf_token(client)
    body, content_type = multipart("tone.ogg", audio["ogg"])
    body = (
        f"--{content_type.split('=')[1]}\r\n"
        'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{token}\r\n"
    ).encode() + body

    response = client.generic("POST", "/media/upload/", body, content_type=content_type)

    media = MediaFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/media/{media.public_id}/"
    detail = client.get(response["Location"]).content.decode()
    assert "tone.ogg" in detail
    assert f"/api/v1/media/{media.public_id}/download/" in detail


def test_the_plain_form_shows_a_refusal_in_plain_language(user, media_dirs: MediaDirs):
    client = _logged_in(user)
    body, content_type = multipart("page.mp3", b"<html><body>hello</body></html>")

    response = client.generic("POST", "/media/upload/", body, content_type=content_type)

    assert response.status_code == 415
    assert "is not audio: it looks like an HTML document" in response.content.decode()
    assert files_under(media_dirs.media_root) == []


def test_the_plain_form_refuses_a_post_without_a_csrf_token(user, audio):
    client = _logged_in(user, enforce_csrf=True)
    body, content_type = multipart("tone.wav", audio["wav"])

    response = client.generic("POST", "/media/upload/", body, content_type=content_type)

    assert response.status_code == 403
    assert not MediaFile.objects.exists()


def test_the_script_upload_uses_the_session_and_csrf_header(user, audio):
    client = _logged_in(user, enforce_csrf=True)
    token = _csrf_token(client)
    body, content_type = multipart("tone.wav", audio["wav"])

    refused = client.generic("POST", "/api/v1/media/", body, content_type=content_type)
    accepted = client.generic(
        "POST", "/api/v1/media/", body, content_type=content_type, HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert accepted.status_code == 201


def test_the_library_lists_the_users_files_and_the_storage_used(user, other_user):
    MediaFileFactory.create(owner=user, display_name="mine.wav", size_bytes=3 * 1024 * 1024)
    MediaFileFactory.create(owner=other_user, display_name="theirs.wav")
    MediaFileFactory.create(
        owner=user,
        display_name="refused.mp3",
        status=MediaFile.Status.REJECTED,
        storage_key="",
        rejection_code="content_mismatch",
    )
    client = _logged_in(user)

    html = client.get("/media/").content.decode()

    assert "mine.wav" in html
    assert "refused.mp3" in html
    assert "theirs.wav" not in html
    assert "Storage used: 3.0 MB of 2.0 GB" in html


def test_the_detail_page_of_a_rejected_upload_explains_why(user):
    media = MediaFileFactory.create(
        owner=user,
        status=MediaFile.Status.REJECTED,
        storage_key="",
        rejection_code="duration_exceeded",
        rejection_message="The audio is 3:00:00 long; the limit is 30:00.",
    )
    client = _logged_in(user)

    html = client.get(f"/media/{media.public_id}/").content.decode()

    assert "The audio is 3:00:00 long; the limit is 30:00." in html
    assert "/download/" not in html


def test_another_users_media_page_is_404(user, other_user):
    theirs = MediaFileFactory.create(owner=other_user)
    client = _logged_in(user)

    assert client.get(f"/media/{theirs.public_id}/").status_code == 404
    assert client.post(f"/media/{theirs.public_id}/delete/").status_code == 404


def test_deleting_from_the_page_asks_for_confirmation_first(
    user, upload, audio, media_dirs: MediaDirs
):
    media_id = upload("tone.wav", audio["wav"]).json()["id"]
    client = _logged_in(user)

    confirm = client.get(f"/media/{media_id}/delete/")
    assert confirm.status_code == 200
    assert "removed for good" in confirm.content.decode()
    assert MediaFile.objects.get(public_id=media_id).status == MediaFile.Status.READY

    deleted = client.post(f"/media/{media_id}/delete/")
    assert deleted.status_code == 302
    assert deleted["Location"] == "/media/"
    assert MediaFile.objects.get(public_id=media_id).status == MediaFile.Status.DELETED
    assert files_under(media_dirs.media_root) == []


def test_media_pages_require_log_in(client: Client):
    response = client.get("/media/")
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]
