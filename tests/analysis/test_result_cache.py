"""Finished results come from the shared cache (Redis) after the first read, until deleted."""

from __future__ import annotations

import gzip
import json
from typing import Any
from uuid import UUID

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from analysis.cache import result_cache_keys
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from tests.analysis.conftest import give_credits, succeeded_job
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db

PARTS = ("detail", "arrays", "audio-analysis")


@pytest.fixture
def redis_cache(redis_url: str, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "test-result-cache",
        }
    }
    cache.clear()


def _counts() -> dict[tuple[str, str], float]:
    return {
        (part, outcome): REGISTRY.get_sample_value(
            "phonoglyph_result_cache_total", {"part": part, "outcome": outcome}
        )
        or 0.0
        for part in PARTS
        for outcome in ("hit", "miss")
    }


def _read_all(client: APIClient, job_id: UUID) -> tuple[dict[str, Any], ...]:
    detail = client.get(f"/api/v1/analyses/{job_id}/")
    view = client.get(f"/api/v1/analyses/{job_id}/audio-analysis/")
    timeline = client.get(f"/api/v1/analyses/{job_id}/timeline/", HTTP_ACCEPT_ENCODING="gzip")
    assert (detail.status_code, view.status_code, timeline.status_code) == (200, 200, 200)
    return detail.json(), view.json(), json.loads(gzip.decompress(timeline.content))


def test_finished_results_are_served_from_redis_until_the_job_is_deleted(
    redis_cache: None, api_client: APIClient, user: User
) -> None:
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded"

    before = _counts()
    first = _read_all(api_client, job.public_id)
    after_first = _counts()
    # The stored objects are gone, yet the second read is whole: it came from the cache.
    default_storage.delete(job.arrays_key)
    default_storage.delete(job.audio_analysis_key)
    second = _read_all(api_client, job.public_id)
    after_second = _counts()

    assert second == first
    for part in PARTS:
        assert after_first[(part, "miss")] - before[(part, "miss")] == 1
        assert after_first[(part, "hit")] - before[(part, "hit")] == 0
        assert after_second[(part, "hit")] - after_first[(part, "hit")] == 1
        assert after_second[(part, "miss")] - after_first[(part, "miss")] == 0

    job.delete()
    assert not any(cache.has_key(key) for key in result_cache_keys(job))
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/").status_code == 404


def test_an_unfinished_job_is_not_cached(
    redis_cache: None, api_client: APIClient, user: User
) -> None:
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/").json()["status"] == "queued"
    assert not any(cache.has_key(key) for key in result_cache_keys(job))


def test_cached_results_are_served_without_reading_the_job_and_only_to_its_owner(
    redis_cache: None, api_client: APIClient, user: User, other_user: User
) -> None:
    job = succeeded_job(user)
    first = _read_all(api_client, job.public_id)
    with CaptureQueriesContext(connection) as queries:
        second = _read_all(api_client, job.public_id)
    assert second == first
    assert not [
        query for query in queries.captured_queries if "analysis_analysisjob" in query["sql"]
    ]

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=other_user).raw}")
    for path in ("", "audio-analysis/", "timeline/"):
        response = stranger.get(f"/api/v1/analyses/{job.public_id}/{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_the_audio_analysis_view_is_the_same_json_with_or_without_gzip(
    redis_cache: None, api_client: APIClient, user: User
) -> None:
    job = succeeded_job(user)
    path = f"/api/v1/analyses/{job.public_id}/audio-analysis/"
    for _ in range(2):  # from storage, then from the cache
        plain = api_client.get(path)
        zipped = api_client.get(path, HTTP_ACCEPT_ENCODING="gzip")
        assert plain["Content-Type"] == zipped["Content-Type"] == "application/json"
        assert zipped["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in plain["Vary"]
        assert json.loads(gzip.decompress(zipped.content)) == plain.json()
        assert plain.json()["track"]["duration"] > 0
