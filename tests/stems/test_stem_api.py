"""The /api/v1/stems/ surface end to end over HTTP, with the run done in-process."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from analysis.models import AnalysisJob
from jobs.runner import job_run
from media.models import MediaFile
from media.services import media_delete
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from stems.services import stem_separation_jobs_sweep
from tests.stems.conftest import backing_media, give_credits

pytestmark = pytest.mark.django_db

URL = "/api/v1/stems/"


def _client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    return client


@pytest.fixture
def separated(user: User, api_client: APIClient) -> dict[str, object]:
    """A succeeded separation of `user`'s, as its API detail."""
    give_credits(user, 20)
    media = backing_media(user)
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code == 202, response.content
    job_run(
        kind=STEM_SEPARATION_KIND,
        job_id=StemSeparationJob.objects.get(public_id=response.json()["id"]).pk,
        worker_host="w",
    )
    detail = api_client.get(f"{URL}{response.json()['id']}/")
    assert detail.status_code == 200
    body: dict[str, object] = detail.json()
    return body


def test_starting_is_idempotent_under_one_key(user: User, api_client: APIClient) -> None:
    give_credits(user, 20)
    media = backing_media(user)
    first = api_client.post(
        URL, {"media": str(media.public_id)}, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
    )
    second = api_client.post(
        URL, {"media": str(media.public_id)}, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
    )
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "queued"
    assert first.json()["credits_reserved"] == 3
    assert StemSeparationJob.objects.count() == 1


def test_starting_without_credits_is_refused_with_402(user: User, api_client: APIClient) -> None:
    media = backing_media(user)
    response = api_client.post(URL, {"media": str(media.public_id)}, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_credits"
    assert not StemSeparationJob.objects.exists()


def test_another_users_media_cannot_be_separated(
    user: User, other_user: User, api_client: APIClient
) -> None:
    give_credits(user, 20)
    response = api_client.post(
        URL, {"media": str(backing_media(other_user).public_id)}, format="json"
    )
    assert response.status_code == 404


def test_the_detail_lists_four_stems_with_download_links(separated: dict[str, object]) -> None:
    assert separated["status"] == "succeeded"
    stems = separated["stems"]
    assert isinstance(stems, list)
    assert [stem["name"] for stem in stems] == ["vocals", "drums", "bass", "other"]
    assert stems[0]["provenance"] == "model"
    assert "Spleeter" in stems[0]["method"]
    assert stems[1]["provenance"] == "dsp"
    assert stems[1]["download"] == f"{URL}{separated['id']}/drums.flac"


def test_only_the_owner_downloads_a_stem(
    separated: dict[str, object], api_client: APIClient, other_user: User
) -> None:
    url = f"{URL}{separated['id']}/drums.flac"
    response = api_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/flac"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body[:4] == b"fLaC"
    assert response["Accept-Ranges"] == "bytes"
    part = api_client.get(url, HTTP_RANGE="bytes=4-9")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 4-9/{len(body)}"
    assert b"".join(part.streaming_content) == body[4:10]  # type: ignore[attr-defined]
    assert api_client.get(url, HTTP_RANGE=f"bytes={len(body)}-").status_code == 416
    assert _client(other_user).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
    assert api_client.get(f"{URL}{separated['id']}/kazoo.flac").status_code == 404


def test_the_list_shows_only_the_callers_separations(
    separated: dict[str, object], api_client: APIClient, other_user: User
) -> None:
    assert [job["id"] for job in api_client.get(URL).json()["results"]] == [separated["id"]]
    assert _client(other_user).get(URL).json()["results"] == []


def test_stems_go_with_their_media(
    separated: dict[str, object], api_client: APIClient, user: User
) -> None:
    job = StemSeparationJob.objects.get(public_id=str(separated["id"]))
    keys = [stem["key"] for stem in job.stem_list]
    media_delete(user=user, public_id=job.media.public_id)
    assert api_client.get(f"{URL}{job.public_id}/").json()["stems"] == []
    response = api_client.get(f"{URL}{job.public_id}/vocals.flac")
    assert response.status_code == 409
    assert response.json()["code"] == "stems_not_available"
    assert stem_separation_jobs_sweep()["files_purged"] == 1
    assert not any(default_storage.exists(key) for key in keys)


def test_analysing_a_stem_uploads_it_and_starts_an_analysis(
    separated: dict[str, object], api_client: APIClient, user: User
) -> None:
    response = api_client.post(f"{URL}{separated['id']}/drums/analyse/")
    assert response.status_code == 202, response.content
    analysis = AnalysisJob.objects.get(public_id=response.json()["id"])
    assert analysis.owner == user
    assert analysis.media.owner == user
    assert analysis.media.display_name.endswith("(drums).flac")
    assert analysis.media.container == "flac"
    assert analysis.media.status == MediaFile.Status.READY
    assert analysis.status == "queued"
