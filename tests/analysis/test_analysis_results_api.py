from __future__ import annotations

import gzip
import json

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from tests.analysis.conftest import give_credits
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory

pytestmark = pytest.mark.django_db


def _succeeded(user: User, features: list[str] | None = None) -> AnalysisJob:
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=features
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "succeeded"
    return job


def test_timeline_is_sent_gzip_encoded_to_clients_that_accept_it(
    api_client: APIClient, user: User
) -> None:
    job = _succeeded(user)
    response = api_client.get(
        f"/api/v1/analyses/{job.public_id}/timeline/", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    arrays = json.loads(gzip.decompress(response.content))
    timeline = arrays["timeline"]
    assert {"frame_rate", "rms", "spectral_centroid", "spectral_flux", "chroma", "bands"} <= set(
        timeline
    )
    assert len(timeline["rms"]) == len(timeline["chroma"]) == len(timeline["bands"]["values"])
    assert len(arrays["waveform"]["min"]) == len(arrays["waveform"]["max"]) > 0


def test_timeline_is_plain_json_for_clients_without_gzip(api_client: APIClient, user: User) -> None:
    job = _succeeded(user)
    response = api_client.get(
        f"/api/v1/analyses/{job.public_id}/timeline/", HTTP_ACCEPT_ENCODING=""
    )
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert response.json()["timeline"]["frame_rate"] > 0


def test_timeline_of_an_unfinished_job_is_a_409_problem(api_client: APIClient, user: User) -> None:
    job = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=user))
    response = api_client.get(f"/api/v1/analyses/{job.public_id}/timeline/")
    assert response.status_code == 409
    assert response.json()["code"] == "analysis_not_succeeded"


def test_timeline_of_another_users_job_is_not_found(
    api_client: APIClient, other_user: User
) -> None:
    job = _succeeded(other_user)
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/timeline/").status_code == 404
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/audio-analysis/").status_code == 404


def test_audio_analysis_view_has_spotify_structure(api_client: APIClient, user: User) -> None:
    job = _succeeded(user)
    response = api_client.get(f"/api/v1/analyses/{job.public_id}/audio-analysis/")
    assert response.status_code == 200
    view = response.json()
    assert {"bars", "beats", "tatums", "sections", "segments"} <= set(view)
    segment = view["segments"][0]
    assert len(segment["pitches"]) == 12
    assert len(segment["timbre"]) == 12
    beat = view["beats"][0]
    assert {"start", "duration", "confidence"} <= set(beat)


def test_audio_analysis_view_needs_its_features(api_client: APIClient, user: User) -> None:
    job = _succeeded(user, features=["tempo", "waveform"])
    response = api_client.get(f"/api/v1/analyses/{job.public_id}/audio-analysis/")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "feature_not_requested"
    assert "timeline" in problem["required"]


def test_job_detail_reports_the_summary_without_the_large_arrays(
    api_client: APIClient, user: User
) -> None:
    job = _succeeded(user)
    body = api_client.get(f"/api/v1/analyses/{job.public_id}/").json()
    assert body["status"] == "succeeded"
    assert body["progress"] == 100
    assert body["error"] is None
    assert {"tempo", "beats", "key", "loudness", "onsets", "sections", "events"} <= set(
        body["result"]
    )
    assert "timeline" not in body["result"]
    assert "waveform" not in body["result"]
