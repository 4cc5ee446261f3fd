"""A newcomer is told what they have and what to do; files and analyses link both ways."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from stems.services import stem_separation_job_create
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory as StemMediaFactory
from tests.factories import DEFAULT_PASSWORD
from tests.monitoring.factories import AnalysisJobFactory, MediaFileFactory
from tests.support.signup import sign_up_and_confirm

pytestmark = pytest.mark.django_db


def _sign_up(client: Client) -> Client:
    return sign_up_and_confirm(client, "new@example.com", "a long pass phrase")


def test_sign_up_lands_on_a_welcome_page_with_the_free_credits_and_the_price(
    client: Client, settings
) -> None:
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    settings.PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE = 1
    page = _sign_up(client).get("/welcome/").content.decode()

    assert "30 free credits" in page
    assert "1 credit per started minute" in page
    assert "a 4-minute song costs 4 credits" in page
    assert 'href="/media/upload/"' in page


def test_an_empty_dashboard_says_what_to_do(client: Client, user: User) -> None:
    client.force_login(user)

    page = client.get("/dashboard/").content.decode()

    assert "You have not uploaded anything yet." in page
    assert "Upload a track first" in page


def test_log_in_leads_to_the_dashboard(client: Client, user: User) -> None:
    response = client.post(
        "/account/login/", {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_the_dashboard_lists_recent_uploads_and_analyses(client: Client, user: User) -> None:
    media = MediaFileFactory.create(owner=user, display_name="groove.wav")
    job = AnalysisJobFactory.create(media=media)
    client.force_login(user)

    page = client.get("/dashboard/").content.decode()

    assert f'href="/media/{media.public_id}/"' in page
    assert f'href="/analyses/{job.public_id}/"' in page


def test_a_file_and_its_analyses_link_to_each_other(client: Client, user: User) -> None:
    media = MediaFileFactory.create(owner=user)
    job = AnalysisJobFactory.create(media=media)
    client.force_login(user)

    file_page = client.get(f"/media/{media.public_id}/").content.decode()
    job_page = client.get(f"/analyses/{job.public_id}/").content.decode()
    jobs_page = client.get("/analyses/").content.decode()

    assert f'href="/analyses/{job.public_id}/"' in file_page
    assert f'href="/media/{media.public_id}/"' in job_page
    assert f'href="/media/{media.public_id}/"' in jobs_page


def test_a_file_not_yet_analysed_offers_to_analyse_it(client: Client, user: User) -> None:
    media = MediaFileFactory.create(owner=user)
    client.force_login(user)

    page = client.get(f"/media/{media.public_id}/").content.decode()

    assert "Not analysed yet." in page
    assert f'href="/analyses/new/?media={media.public_id}"' in page


def test_the_theme_toggle_is_kept_on_the_account(client: Client, user: User) -> None:
    client.force_login(user)

    client.post("/account/theme/", {"theme": "dark", "next": "/dashboard/"})

    user.refresh_from_db()
    assert user.theme == "dark"
    assert '<html lang="en" data-theme="dark">' in client.get("/dashboard/").content.decode()


def test_the_theme_toggle_is_kept_in_a_cookie_when_signed_out(client: Client) -> None:
    response = client.post("/account/theme/", {"theme": "light", "next": "https://evil.example/"})

    assert response["Location"] == "/"
    assert '<html lang="en" data-theme="light">' in client.get("/").content.decode()


def test_a_file_and_its_stem_separations_link_to_each_other(client: Client, user: User) -> None:
    give_credits(user, 10)
    media = StemMediaFactory.create(owner=user)
    job = stem_separation_job_create(user=user, media_public_id=media.public_id)
    client.force_login(user)

    file_page = client.get(f"/media/{media.public_id}/").content.decode()
    job_page = client.get(f"/stems/{job.public_id}/").content.decode()
    dashboard = client.get("/dashboard/").content.decode()

    assert f'href="/stems/{job.public_id}/"' in file_page
    assert f'href="/media/{media.public_id}/"' in job_page
    assert f'href="/stems/{job.public_id}/"' in dashboard


def test_a_file_not_yet_separated_offers_to_separate_it(client: Client, user: User) -> None:
    media = MediaFileFactory.create(owner=user)
    client.force_login(user)

    page = client.get(f"/media/{media.public_id}/").content.decode()

    assert "Not separated yet." in page
    assert f'href="/stems/new/?media={media.public_id}"' in page
