"""The sample track on the pages: offered on the welcome page and an empty dashboard, started
by one button, credited wherever the recording or its analysis appears, and free once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_sample_track_start
from media.models import MediaFile
from tests.analysis.factories import MediaFileFactory
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

CREDIT = "from GuitarSet by Q. Xi, R. Bittner, J. Pauwels, X. Ye and J. P. Bello (ISMIR 2018)"
BUTTON = "Try it with a sample track</button>"


def _signed_in(user: User) -> Client:
    client = Client()
    assert client.login(email=user.email, password=DEFAULT_PASSWORD)
    return client


def test_the_welcome_page_offers_the_sample_track_free_with_its_credit(user: User) -> None:
    page = _signed_in(user).get("/welcome/").content.decode()

    assert BUTTON in page
    assert 'action="/analyses/sample-track/"' in page
    assert "free of charge" in page
    assert CREDIT in page
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in page


def test_an_empty_dashboard_offers_the_sample_track(user: User) -> None:
    page = _signed_in(user).get("/dashboard/").content.decode()

    assert BUTTON in page
    assert "analysed free of charge, once per account" in page


def test_the_button_starts_the_analysis_and_opens_its_page_with_the_credit(user: User) -> None:
    client = _signed_in(user)

    response = client.post("/analyses/sample-track/")

    job = AnalysisJob.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == f"/analyses/{job.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "The sample track was uploaded and its free analysis has started." in page
    assert "your free sample analysis (no credits charged)" in page
    assert CREDIT in page
    assert f'href="/media/{job.media.public_id}/"' in page


def test_the_sample_files_page_credits_the_recording_and_links_its_analysis(user: User) -> None:
    job = analysis_sample_track_start(user=user).job

    page = _signed_in(user).get(f"/media/{job.media.public_id}/").content.decode()

    assert CREDIT in page
    assert f'href="/analyses/{job.public_id}/"' in page


def test_a_second_press_leads_to_the_first_analysis_and_says_so(user: User) -> None:
    first = analysis_sample_track_start(user=user).job
    client = _signed_in(user)

    response = client.post("/analyses/sample-track/")

    assert response["Location"] == f"/analyses/{first.public_id}/"
    assert "You already tried the sample track" in client.get(response["Location"]).content.decode()
    assert AnalysisJob.objects.filter(owner=user).count() == 1


def test_after_the_sample_the_welcome_page_links_it_instead_of_offering_it(user: User) -> None:
    job = analysis_sample_track_start(user=user).job

    page = _signed_in(user).get("/welcome/").content.decode()

    assert BUTTON not in page
    assert f'href="/analyses/{job.public_id}/"' in page
    assert CREDIT in page


def test_a_refused_sample_says_why_on_the_dashboard(user: User, settings: Any) -> None:
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 1000
    client = _signed_in(user)

    response = client.post("/analyses/sample-track/", follow=True)

    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert "The sample track could not be started:" in response.content.decode()
    assert not MediaFile.objects.exists()


def test_the_sample_track_is_started_only_by_post(user: User) -> None:
    assert _signed_in(user).get("/analyses/sample-track/").status_code == 405
    assert not AnalysisJob.objects.exists()


def test_someone_signed_out_is_sent_to_log_in(client: Client) -> None:
    response = client.post("/analyses/sample-track/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    assert not AnalysisJob.objects.exists()


def test_other_files_show_no_sample_credit(user: User) -> None:
    media = MediaFileFactory.create(owner=user)

    assert CREDIT not in _signed_in(user).get(f"/media/{media.public_id}/").content.decode()
