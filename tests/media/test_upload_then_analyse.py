"""Uploading can start the analysis in the same step, on the page and through the API; a
refusal (not enough credits) keeps the file and says why nothing started."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from billing.selectors import credit_balance_for_user
from media.models import MediaFile
from tests.analysis.conftest import give_credits
from tests.factories import DEFAULT_PASSWORD
from tests.media.conftest import multipart

pytestmark = pytest.mark.django_db


def _with_fields(filename: str, content: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart body with form fields before the file part."""
    body, content_type = multipart(filename, content)
    boundary = content_type.split("=", 1)[1]
    parts = b"".join(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
        for name, value in fields.items()
    )
    return parts + body, content_type


def _page_client(user: User) -> Client:
    client = Client()
    assert client.login(email=user.email, password=DEFAULT_PASSWORD)
    return client


def _page_upload(client: Client, content: bytes, **fields: str) -> Any:
    body, content_type = _with_fields("tone.wav", content, **fields)
    return client.generic("POST", "/media/upload/", body, content_type=content_type)


def _api_upload(client: APIClient, content: bytes, **fields: str) -> Any:
    body, content_type = _with_fields("tone.wav", content, **fields)
    return client.generic("POST", "/api/v1/media/", body, content_type=content_type)  # type: ignore[arg-type]


def test_the_upload_page_offers_to_analyse_with_the_price_checked_when_affordable(
    user: User, settings: Any
) -> None:
    settings.PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE = 2
    give_credits(user, 7)

    html = _page_client(user).get("/media/upload/").content.decode()

    assert "Analyse after upload" in html
    assert "2 credits per started minute of audio" in html
    assert "You have 7 credits." in html
    assert 'name="analyse" value="true" data-follow-up checked' in html


def test_the_choice_is_unchecked_for_a_user_without_enough_credits(user: User) -> None:
    html = _page_client(user).get("/media/upload/").content.decode()

    assert "You have 0 credits." in html
    assert 'name="analyse" value="true" data-follow-up checked' not in html
    assert 'name="analyse" value="true" data-follow-up' in html


def test_uploading_with_analyse_starts_the_analysis_and_opens_its_page(
    user: User, audio: dict[str, bytes], media_dirs: Any
) -> None:
    give_credits(user, 10)
    client = _page_client(user)

    response = _page_upload(client, audio["wav"], analyse="true")

    job = AnalysisJob.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == f"/analyses/{job.public_id}/"
    assert job.media == MediaFile.objects.get(owner=user)
    assert job.credits_reserved == 1
    assert credit_balance_for_user(user=user).available == 9
    page = client.get(response["Location"]).content.decode()
    assert f'href="/media/{job.media.public_id}/"' in page


def test_uploading_without_analyse_only_uploads(
    user: User, audio: dict[str, bytes], media_dirs: Any
) -> None:
    give_credits(user, 10)

    response = _page_upload(_page_client(user), audio["wav"])

    media = MediaFile.objects.get(owner=user)
    assert response["Location"] == f"/media/{media.public_id}/"
    assert not AnalysisJob.objects.exists()


def test_without_enough_credits_the_file_is_kept_and_the_page_says_why(
    user: User, audio: dict[str, bytes], media_dirs: Any
) -> None:
    client = _page_client(user)

    response = _page_upload(client, audio["wav"], analyse="true")

    media = MediaFile.objects.get(owner=user)
    assert media.status == MediaFile.Status.READY
    assert not AnalysisJob.objects.exists()
    assert response["Location"] == f"/media/{media.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "The file is kept, but nothing was started:" in page
    assert "credits" in page


def test_the_api_starts_the_analysis_with_analyse_true_and_links_it(
    user: User, api_client: APIClient, audio: dict[str, bytes], media_dirs: Any
) -> None:
    give_credits(user, 10)

    response = _api_upload(api_client, audio["wav"], analyse="true")

    assert response.status_code == 201, response.content
    job = AnalysisJob.objects.get(owner=user)
    body = response.json()
    assert body["id"] == str(job.media.public_id)
    assert body["follow_ups"] == {
        "analyse": {
            "status": "started",
            "url": f"/api/v1/analyses/{job.public_id}/",
            "page_url": f"/analyses/{job.public_id}/",
        }
    }
    assert api_client.get(body["follow_ups"]["analyse"]["url"]).json()["media"] == body["id"]


def test_the_api_keeps_the_upload_and_reports_a_refused_analysis(
    user: User, api_client: APIClient, audio: dict[str, bytes], media_dirs: Any
) -> None:
    response = _api_upload(api_client, audio["wav"], analyse="true")

    assert response.status_code == 201, response.content
    refused = response.json()["follow_ups"]["analyse"]
    assert refused["status"] == "refused"
    assert refused["code"] == "insufficient_credits"
    assert refused["detail"]
    assert MediaFile.objects.get(owner=user).status == MediaFile.Status.READY
    assert not AnalysisJob.objects.exists()


def test_the_api_upload_without_analyse_starts_nothing(
    user: User, api_client: APIClient, audio: dict[str, bytes], media_dirs: Any
) -> None:
    give_credits(user, 10)

    response = _api_upload(api_client, audio["wav"], analyse="false")

    assert response.status_code == 201, response.content
    assert response.json()["follow_ups"] == {}
    assert not AnalysisJob.objects.exists()


def test_the_api_refuses_an_analyse_value_that_is_not_a_boolean_before_storing(
    user: User, api_client: APIClient, audio: dict[str, bytes], media_dirs: Any
) -> None:
    response = _api_upload(api_client, audio["wav"], analyse="perhaps")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert not MediaFile.objects.exists()


def test_the_openapi_schema_documents_the_analyse_field(api_client: APIClient) -> None:
    schema = api_client.get("/api/v1/schema/?format=json").json()

    body = schema["paths"]["/api/v1/media/"]["post"]["requestBody"]["content"]
    properties = body["multipart/form-data"]["schema"]["properties"]
    assert properties["analyse"]["type"] == "boolean"
    assert "insufficient_credits" in properties["analyse"]["description"]
    assert set(properties) == {"file", "analyse"}
