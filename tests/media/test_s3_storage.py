"""The S3 path, against a real SeaweedFS S3 API that enforces signatures."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from rest_framework.test import APIClient

from media.models import MediaFile
from media.selectors import media_open_local_copy
from tests.media.conftest import MediaDirs, files_under, free_port
from tests.support.s3 import S3Server

pytestmark = pytest.mark.slow


def _tampered(url: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    signature = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_upload_to_s3_stores_a_private_object_with_the_detected_content_type(
    s3_storage: S3Server, upload, audio, media_dirs: MediaDirs
):
    response = upload("tone.mp3", audio["mp3"])

    assert response.status_code == 201, response.content
    media = MediaFile.objects.get(public_id=response.json()["id"])
    head = s3_storage.client().head_object(Bucket=s3_storage.bucket, Key=media.storage_key)
    assert head["ContentType"] == "audio/mpeg"
    assert head["ContentLength"] == len(audio["mp3"])
    assert files_under(media_dirs.media_root) == []
    anonymous = requests.get(
        f"{s3_storage.endpoint}/{s3_storage.bucket}/{media.storage_key}", timeout=10
    )
    assert anonymous.status_code == 403


def test_s3_download_redirects_to_a_presigned_url_that_works(
    s3_storage: S3Server, api_client: APIClient, upload, audio
):
    created = upload("My Tone.wav", audio["wav"]).json()

    response = api_client.get(f"/api/v1/media/{created['id']}/download/")

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(s3_storage.endpoint)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == created["sha256"]
    assert fetched.headers["Content-Type"] == "audio/wav"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert "My Tone.wav" in fetched.headers["Content-Disposition"]


def test_a_tampered_presigned_url_is_refused(
    s3_storage: S3Server, api_client: APIClient, upload, audio
):
    created = upload("tone.wav", audio["wav"]).json()
    url = api_client.get(f"/api/v1/media/{created['id']}/download/")["Location"]

    parts = urlsplit(url)
    other_key = urlunsplit(parts._replace(path=parts.path.replace("/audio/", "/audio/x")))

    assert requests.get(_tampered(url), timeout=10).status_code == 403
    # A valid signature does not carry over to another key.
    assert requests.get(other_key, timeout=10).status_code == 403


def test_an_expired_presigned_url_is_refused(
    settings, s3_storage: S3Server, api_client: APIClient, upload, audio
):
    settings.AWS_QUERYSTRING_EXPIRE = 1
    created = upload("tone.wav", audio["wav"]).json()
    url = api_client.get(f"/api/v1/media/{created['id']}/download/")["Location"]

    time.sleep(2.5)

    assert requests.get(url, timeout=10).status_code == 403


def test_deleting_s3_media_removes_the_object(
    s3_storage: S3Server, api_client: APIClient, upload, audio
):
    created = upload("tone.wav", audio["wav"]).json()
    key = MediaFile.objects.get(public_id=created["id"]).storage_key
    client = s3_storage.client()

    assert api_client.delete(f"/api/v1/media/{created['id']}/").status_code == 204

    listed = client.list_objects_v2(Bucket=s3_storage.bucket, Prefix=key)
    assert listed.get("KeyCount", 0) == 0


def test_a_refused_upload_writes_nothing_to_the_bucket(s3_storage: S3Server, upload):
    before = s3_storage.client().list_objects_v2(Bucket=s3_storage.bucket).get("KeyCount", 0)

    response = upload("page.mp3", b"<html>not audio</html>")

    assert response.status_code == 415
    after = s3_storage.client().list_objects_v2(Bucket=s3_storage.bucket).get("KeyCount", 0)
    assert after == before


def test_a_local_copy_of_s3_media_can_be_opened_for_decoding_and_is_removed_after(
    s3_storage: S3Server, upload, audio
):
    media = MediaFile.objects.get(public_id=upload("tone.flac", audio["flac"]).json()["id"])

    with media_open_local_copy(media=media) as local:
        assert local.input_format == "flac"
        assert local.path.read_bytes() == audio["flac"]
        copied = local.path

    assert not copied.exists()


def test_storage_with_wrong_credentials_is_refused_by_the_server(s3_storage: S3Server):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        s3_storage.client(secret_key="wrong-secret").list_objects_v2(Bucket=s3_storage.bucket)

    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_an_unreachable_bucket_refuses_the_upload_with_503_and_keeps_no_row(
    settings, s3_storage: S3Server, upload, audio
):
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    # A new STORAGES value makes Django build the storage again, with the new endpoint.
    settings.STORAGES = {**settings.STORAGES}

    response = upload("tone.wav", audio["wav"])

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert not MediaFile.objects.filter(status=MediaFile.Status.READY).exists()
