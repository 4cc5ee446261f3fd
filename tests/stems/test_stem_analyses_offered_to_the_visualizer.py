"""The results page of a track offers its visualizer exactly the stems whose own analysis
finished: the newest one per stem, the owner's only, none once the stems are gone."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from jobs.runner import job_run
from media.services import media_delete
from stems.kind import STEM_SEPARATION_KIND
from stems.selectors import StemAnalysis, stem_analyses_for_media
from stems.services import stem_analysis_start, stem_separation_job_create
from tests.factories import DEFAULT_PASSWORD
from tests.stems.conftest import backing_media, give_credits

pytestmark = pytest.mark.django_db


def _browser(user: User) -> Client:
    client = Client()
    assert client.login(username=user.email, password=DEFAULT_PASSWORD)
    return client


def _run(job: AnalysisJob) -> AnalysisJob:
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    return job


def test_only_stems_with_a_finished_analysis_are_offered_and_only_to_their_owner(
    user: User, other_user: User
) -> None:
    give_credits(user, 1000)
    media = backing_media(user)
    mix = _run(analysis_job_create(user=user, media_public_id=media.public_id, features=["tempo"]))
    separation = stem_separation_job_create(user=user, media_public_id=media.public_id)
    job_run(kind=STEM_SEPARATION_KIND, job_id=separation.pk, worker_host="worker-a")
    client = _browser(user)
    assert (
        'id="visualizer-source"' not in client.get(f"/analyses/{mix.public_id}/").content.decode()
    )

    drums = _run(stem_analysis_start(user=user, public_id=separation.public_id, stem="drums"))
    stem_analysis_start(user=user, public_id=separation.public_id, stem="vocals")  # queued, not run

    assert stem_analyses_for_media(user=user, media_id=media.pk) == [
        StemAnalysis(stem="drums", analysis_public_id=drums.public_id)
    ]
    assert stem_analyses_for_media(user=other_user, media_id=media.pk) == []
    page = client.get(f"/analyses/{mix.public_id}/").content.decode()
    assert 'id="visualizer-source"' in page
    assert f'data-api-url="/api/v1/analyses/{drums.public_id}/"' in page
    assert ">Drums</option>" in page
    assert ">Vocals</option>" not in page

    # Analysed again: the newer analysis drives the visualizer.
    again = _run(stem_analysis_start(user=user, public_id=separation.public_id, stem="drums"))
    assert stem_analyses_for_media(user=user, media_id=media.pk) == [
        StemAnalysis(stem="drums", analysis_public_id=again.public_id)
    ]

    media_delete(user=user, public_id=media.public_id)
    assert stem_analyses_for_media(user=user, media_id=media.pk) == []
