"""Uploads, jobs and API keys are known to their owners by random ids, never by a counter."""

from __future__ import annotations

from uuid import UUID

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create
from media.models import MediaFile
from stems.models import StemSeparationJob
from stems.services import stem_separation_job_create
from tests.analysis.conftest import give_credits
from tests.media.factories import MediaFileFactory
from tests.stems.conftest import backing_media

pytestmark = pytest.mark.django_db


def _is_uuid(value: object) -> bool:
    return isinstance(value, str) and str(UUID(value)) == value


def _jobs(user: User) -> tuple[MediaFile, AnalysisJob, StemSeparationJob]:
    give_credits(user, 100)
    media = backing_media(user)
    analysis = analysis_job_create(user=user, media_public_id=media.public_id, features=None)
    stems = stem_separation_job_create(user=user, media_public_id=media.public_id)
    return media, analysis, stems


def test_api_responses_name_uploads_jobs_and_keys_by_uuid(
    api_client: APIClient, user: User
) -> None:
    media, analysis, stems = _jobs(user)
    api_key_create(user=user, name="laptop")

    uploaded = api_client.get(f"/api/v1/media/{media.public_id}/").json()
    analysed = api_client.get(f"/api/v1/analyses/{analysis.public_id}/").json()
    separated = api_client.get(f"/api/v1/stems/{stems.public_id}/").json()
    keys = api_client.get("/api/v1/api-keys/").json()["results"]

    assert uploaded["id"] == str(media.public_id)
    assert uploaded["download_url"] == f"/api/v1/media/{media.public_id}/download/"
    assert (analysed["id"], analysed["media"]) == (str(analysis.public_id), str(media.public_id))
    assert analysed["links"]["self"] == f"/api/v1/analyses/{analysis.public_id}/"
    assert analysed["links"]["page"] == f"/analyses/{analysis.public_id}/"
    assert (separated["id"], separated["media"]) == (str(stems.public_id), str(media.public_id))
    assert separated["links"]["self"] == f"/api/v1/stems/{stems.public_id}/"
    assert "laptop" in [key["name"] for key in keys]
    assert all(_is_uuid(key["id"]) for key in keys)


def test_a_new_analysis_is_started_by_the_uploads_uuid(api_client: APIClient, user: User) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user)

    started = api_client.post("/api/v1/analyses/", {"media": str(media.public_id)}, format="json")

    assert started.status_code == 202
    assert _is_uuid(started.json()["id"])
    assert started.json()["media"] == str(media.public_id)


def test_a_malformed_upload_id_in_a_request_body_is_a_400_problem(
    api_client: APIClient, user: User
) -> None:
    give_credits(user, 10)

    media = MediaFileFactory.create(owner=user)

    for malformed in ("not-an-id", media.pk, str(media.pk)):
        response = api_client.post("/api/v1/analyses/", {"media": malformed}, format="json")
        assert response.status_code == 400, malformed
        assert response["Content-Type"] == "application/problem+json"
        assert "media" in response.json()["errors"]
    stems = api_client.post("/api/v1/stems/", {"media": media.pk}, format="json")
    assert stems.status_code == 400
    assert not AnalysisJob.objects.exists()


def test_integer_paths_are_not_found(api_client: APIClient, user: User) -> None:
    media, analysis, stems = _jobs(user)
    key = api_key_create(user=user).api_key

    for path in (
        f"/api/v1/media/{media.pk}/",
        f"/api/v1/analyses/{analysis.pk}/",
        f"/api/v1/stems/{stems.pk}/",
        f"/media/{media.pk}/",
        f"/analyses/{analysis.pk}/",
        f"/stems/{stems.pk}/",
    ):
        assert api_client.get(path).status_code == 404, path
    assert api_client.delete(f"/api/v1/api-keys/{key.pk}/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_another_users_uuids_are_not_found(
    api_client: APIClient, user: User, other_user: User
) -> None:
    media, analysis, stems = _jobs(other_user)
    key = api_key_create(user=other_user).api_key
    me = Client()
    me.force_login(user)

    assert api_client.get(f"/api/v1/media/{media.public_id}/").status_code == 404
    assert api_client.get(f"/api/v1/analyses/{analysis.public_id}/").status_code == 404
    assert api_client.get(f"/api/v1/stems/{stems.public_id}/").status_code == 404
    assert api_client.delete(f"/api/v1/api-keys/{key.public_id}/").status_code == 404
    assert me.get(f"/media/{media.public_id}/").status_code == 404
    assert me.get(f"/analyses/{analysis.public_id}/").status_code == 404
    assert me.get(f"/stems/{stems.public_id}/").status_code == 404
    assert me.get("/analyses/new/", {"media": str(media.public_id)}).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_pages_link_to_uploads_and_jobs_by_uuid(user: User) -> None:
    media, analysis, stems = _jobs(user)
    me = Client()
    me.force_login(user)

    library = me.get("/media/").content.decode()
    analyses = me.get("/analyses/").content.decode()
    separations = me.get("/stems/").content.decode()

    assert f'href="/media/{media.public_id}/"' in library
    assert f'href="/analyses/{analysis.public_id}/"' in analyses
    assert f'href="/stems/{stems.public_id}/"' in separations
    assert f"/media/{media.pk}/" not in library
    assert f"/analyses/{analysis.pk}/" not in analyses


def test_the_credit_history_names_jobs_by_uuid(api_client: APIClient, user: User) -> None:
    _media, analysis, stems = _jobs(user)

    transfers = api_client.get("/api/v1/credits/transfers/").json()["results"]

    refs = {transfer["job_ref"] for transfer in transfers if transfer["job_ref"]}
    assert refs == {f"analysis:{analysis.public_id}", f"stem_separation:{stems.public_id}"}
