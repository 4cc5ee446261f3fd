"""The job page's poll: the stage in plain words and a time left only where it was measured."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from analysis.models import AnalysisJob
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory
from tests.monitoring.factories import AnalysisJobFactory as FinishedAnalysisJobFactory

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _running(user: User, *, stage: str, progress: int, seconds_ago: float) -> AnalysisJob:
    return AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user),
        status=AnalysisJob.Status.RUNNING,
        stage=stage,
        progress=progress,
        audio_seconds=60.0,
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        finished_at=None,
        processing_seconds=None,
        result=None,
    )


def _recent(count: int, *, processing_seconds: float, audio_seconds: float = 60.0) -> None:
    for _ in range(count):
        FinishedAnalysisJobFactory.create(
            audio_seconds=audio_seconds, processing_seconds=processing_seconds
        )


def _progress(client: Client, job: AnalysisJob) -> dict[str, Any]:
    response = client.get(reverse("analysis:job-progress", args=[job.public_id]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def test_a_queued_job_waits_for_a_worker_with_no_estimate(user: User):
    job = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user),
        status=AnalysisJob.Status.QUEUED,
        started_at=None,
        finished_at=None,
        processing_seconds=None,
        result=None,
    )
    _recent(3, processing_seconds=30.0)
    assert _progress(_client(user), job) == {
        "status": "queued",
        "finished": False,
        "percent": 0,
        "stage": "",
        "stage_words": "Waiting for a worker",
        "seconds_left": None,
        "time_left_basis": None,
    }


def test_recent_jobs_pace_per_audio_second_gives_the_time_left(user: User):
    # Recent analyses took half a second per second of audio (median), so 60 s take 30 s.
    _recent(2, processing_seconds=30.0)
    _recent(1, processing_seconds=90.0)
    _recent(2, processing_seconds=0.0)  # reused results measure nothing
    job = _running(user, stage="rhythm", progress=82, seconds_ago=10)

    body = _progress(_client(user), job)
    assert body["stage_words"] == "Finding the beat"
    assert body["percent"] == 82
    assert body["seconds_left"] == 20
    assert body["time_left_basis"] == "recent_jobs"


def test_without_enough_recent_jobs_the_rate_so_far_gives_the_time_left(user: User):
    _recent(2, processing_seconds=30.0)
    job = _running(user, stage="decoding", progress=40, seconds_ago=20)

    body = _progress(_client(user), job)
    assert body["stage_words"] == "Reading the audio"
    assert body["seconds_left"] == 30
    assert body["time_left_basis"] == "this_job"


def test_a_job_slower_than_recent_ones_falls_back_to_its_own_rate(user: User):
    _recent(3, processing_seconds=6.0)
    job = _running(user, stage="decoding", progress=50, seconds_ago=30)

    body = _progress(_client(user), job)
    assert body["seconds_left"] == 30
    assert body["time_left_basis"] == "this_job"


def test_no_estimate_is_shown_before_there_is_anything_to_measure(user: User):
    job = _running(user, stage="fetching", progress=0, seconds_ago=1)

    body = _progress(_client(user), job)
    assert body["stage_words"] == "Fetching the audio"
    assert body["seconds_left"] is None
    assert body["time_left_basis"] is None


def test_the_runners_own_stage_has_words_too(user: User):
    job = _running(user, stage="storing", progress=99, seconds_ago=12)
    assert _progress(_client(user), job)["stage_words"] == "Saving the results"


def test_a_finished_job_says_so_and_the_page_stops_following(user: User):
    job = FinishedAnalysisJobFactory.create(owner=user, media__owner=user)
    body = _progress(_client(user), job)
    assert body["finished"] is True
    assert body["stage_words"] == "Finished"
    assert body["seconds_left"] is None


def test_another_users_job_is_not_found_and_signed_out_is_401(user: User, other_user: User):
    job = _running(other_user, stage="rhythm", progress=82, seconds_ago=10)
    url = reverse("analysis:job-progress", args=[job.public_id])

    refused = _client(user).get(url)
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/problem+json"
    assert Client().get(url).status_code == 401


def test_the_job_page_shows_the_stage_in_words_and_offers_browser_notifications(user: User):
    job = _running(user, stage="key", progress=86, seconds_ago=10)
    html = _client(user).get(reverse("analysis:job-detail", args=[job.public_id])).content.decode()
    assert '<span id="job-stage" aria-live="polite">Finding the key</span>' in html
    assert "Notify me in this browser" in html
