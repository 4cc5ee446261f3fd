from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from billing.models import CreditAccount
from tests.analysis.conftest import give_credits
from tests.analysis.factories import AnalysisJobFactory, MediaFileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _succeeded(user: User) -> AnalysisJob:
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    return job


def _assert_no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


def test_the_media_page_links_to_starting_an_analysis(browser: Client, user: User) -> None:
    media = MediaFileFactory.create(owner=user)
    page = browser.get(reverse("media:detail", args=[media.public_id]))
    assert f"{reverse('analysis:job-new')}?media={media.public_id}".encode() in page.content


def test_the_start_page_shows_the_cost_and_starting_opens_the_job_page(
    browser: Client, user: User
) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(owner=user)
    page = browser.get(reverse("analysis:job-new"), {"media": str(media.public_id)})
    assert page.status_code == 200
    assert b"costs <strong>1</strong> credit" in page.content
    response = browser.post(
        reverse("analysis:job-new"),
        {"media_id": str(media.public_id), "features": ["tempo", "key"]},
    )
    job = AnalysisJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analysis:job-detail", args=[job.public_id])
    assert job.features == ["tempo", "key"]
    assert CreditAccount.objects.get(user=user).available == 9


def test_starting_without_enough_credits_shows_the_refusal_on_the_form(
    browser: Client, user: User
) -> None:
    media = MediaFileFactory.create(owner=user)
    response = browser.post(reverse("analysis:job-new"), {"media_id": str(media.public_id)})
    assert response.status_code == 402
    assert b"form-errors" in response.content
    assert not AnalysisJob.objects.exists()


def test_the_start_page_for_another_users_media_is_not_found(
    browser: Client, other_user: User
) -> None:
    media = MediaFileFactory.create(owner=other_user)
    assert (
        browser.get(reverse("analysis:job-new"), {"media": str(media.public_id)}).status_code == 404
    )


def test_a_running_job_page_polls_its_progress_with_a_static_script(
    browser: Client, user: User
) -> None:
    job = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user), status="running", progress=40
    )
    job.stage = "decoding"
    job.save()
    page = browser.get(reverse("analysis:job-detail", args=[job.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-progress-url="{reverse("analysis:job-progress", args=[job.public_id])}"' in html
    assert 'src="/static/js/job-progress.js"' in html
    assert 'value="40"' in html
    assert "Reading the audio" in html
    _assert_no_inline_script_or_style(html)


def test_a_succeeded_job_page_draws_pictures_and_offers_downloads(
    browser: Client, user: User
) -> None:
    job = _succeeded(user)
    html = browser.get(reverse("analysis:job-detail", args=[job.public_id])).content.decode()
    for chart in ("chart-waveform", "chart-loudness", "chart-chroma", "chart-bands"):
        assert f'id="{chart}"' in html
    assert 'src="/static/js/analysis-results.js"' in html
    assert "<table" not in html
    assert "C major" in html
    assert "BPM" in html
    assert reverse("analysis:job-download-csv", args=[job.public_id]) in html
    _assert_no_inline_script_or_style(html)


def test_a_failed_job_page_shows_the_code_and_message(browser: Client, user: User) -> None:
    job = AnalysisJobFactory.create(
        media=MediaFileFactory.create(owner=user),
        status="failed",
        error_code="undecodable_audio",
        error_message="The file contains no decodable audio.",
    )
    html = browser.get(reverse("analysis:job-detail", args=[job.public_id])).content.decode()
    assert "undecodable_audio" in html
    assert "no decodable audio" in html


def test_json_download_holds_the_summary_and_the_arrays(browser: Client, user: User) -> None:
    job = _succeeded(user)
    response = browser.get(reverse("analysis:job-download-json", args=[job.public_id]))
    assert (
        response["Content-Disposition"] == f'attachment; filename="analysis-{job.public_id}.json"'
    )
    data = json.loads(response.content)
    assert data["tempo"] == job.summary["tempo"]
    assert len(data["timeline"]["rms"]) > 0
    assert len(data["waveform"]["min"]) > 0


def test_csv_download_has_one_row_per_frame(browser: Client, user: User) -> None:
    job = _succeeded(user)
    response = browser.get(reverse("analysis:job-download-csv", args=[job.public_id]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert header[:2] == ["t", "rms"]
    assert [name for name in header if name.startswith("chroma_")] == [
        f"chroma_{pitch}"
        for pitch in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
    ]
    assert any(name.startswith("band_") for name in header)
    frame_rate = float(rows[2][0]) - float(rows[1][0])
    assert len(rows) - 1 == pytest.approx(job.summary["duration"] / frame_rate, abs=2)
    assert all(len(row) == len(header) for row in rows)


def test_another_users_job_pages_are_not_found(browser: Client, other_user: User) -> None:
    job = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=other_user))
    for name in ("job-detail", "job-download-json", "job-download-csv"):
        assert browser.get(reverse(f"analysis:{name}", args=[job.public_id])).status_code == 404
    assert browser.post(reverse("analysis:job-cancel", args=[job.public_id])).status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"


def test_the_list_page_shows_only_the_users_jobs(
    browser: Client, user: User, other_user: User
) -> None:
    mine = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=user))
    theirs = AnalysisJobFactory.create(media=MediaFileFactory.create(owner=other_user))
    html = browser.get(reverse("analysis:job-list")).content.decode()
    assert reverse("analysis:job-detail", args=[mine.public_id]) in html
    assert reverse("analysis:job-detail", args=[theirs.public_id]) not in html


def test_cancel_from_the_job_page(browser: Client, user: User) -> None:
    give_credits(user, 10)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    response = browser.post(reverse("analysis:job-cancel", args=[job.public_id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert CreditAccount.objects.get(user=user).available == 10
