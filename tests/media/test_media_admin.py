from __future__ import annotations

from django.test import Client

from media.models import MediaFile
from tests.factories import DEFAULT_PASSWORD
from tests.media.factories import MediaFileFactory, UploadRejectionFactory


def _staff_client(staff_user) -> Client:
    staff_user.is_superuser = True
    staff_user.save()
    client = Client()
    assert client.login(email=staff_user.email, password=DEFAULT_PASSWORD)
    return client


def test_admin_lists_media_with_filters_and_storage_per_user(staff_user, user, other_user):
    MediaFileFactory.create(owner=user, size_bytes=3 * 1024 * 1024, display_name="big.wav")
    MediaFileFactory.create(owner=user, size_bytes=1024 * 1024, container="flac")
    MediaFileFactory.create(owner=other_user, size_bytes=1024)
    MediaFileFactory.create(
        owner=other_user,
        status=MediaFile.Status.REJECTED,
        storage_key="",
        rejection_code="content_mismatch",
        size_bytes=10**9,
    )
    client = _staff_client(staff_user)

    page = client.get("/admin/media/mediafile/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Storage per user" in html
    assert f"{user.email}</td><td>2</td><td>4.0\xa0MB (4194304 bytes)" in html
    assert f"{other_user.email}</td><td>1</td><td>1.0\xa0KB (1024 bytes)" in html
    by_code = client.get("/admin/media/mediafile/", {"rejection_code": "content_mismatch"})
    assert by_code.context["cl"].result_count == 1
    filtered = client.get("/admin/media/mediafile/", {"container__exact": "flac"})
    assert filtered.context["cl"].result_count == 1
    rejected = client.get("/admin/media/mediafile/", {"status__exact": "rejected"})
    assert rejected.context["cl"].result_count == 1


def test_the_rejection_log_is_read_only_in_the_admin(staff_user):
    rejection = UploadRejectionFactory.create(code="malware_detected")
    client = _staff_client(staff_user)

    listing = client.get("/admin/media/uploadrejection/", {"code__exact": "malware_detected"})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    change = client.get(f"/admin/media/uploadrejection/{rejection.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.post(f"/admin/media/uploadrejection/{rejection.pk}/delete/").status_code == 403
    assert client.get("/admin/media/uploadrejection/add/").status_code == 403
