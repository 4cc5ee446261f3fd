"""With Redis unreachable, analyses still run and their results are still served."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.analysis.conftest import succeeded_job

pytestmark = pytest.mark.django_db


def test_a_job_runs_and_its_results_are_read_while_the_cache_is_down(
    unreachable_redis: str, api_client: APIClient, user: User
) -> None:
    job = succeeded_job(user)
    assert job.status == "succeeded"

    for path in ("", "audio-analysis/", "timeline/"):
        response = api_client.get(f"/api/v1/analyses/{job.public_id}/{path}")
        assert response.status_code == 200, (path, response.content[:200])
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/").json()["status"] == "succeeded"

    job.delete()
    assert api_client.get(f"/api/v1/analyses/{job.public_id}/").status_code == 404
