"""The stem pages through Django's test client: start, follow, play, refuse strangers."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from jobs.runner import job_run
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.stems.conftest import backing_media, give_credits

pytestmark = pytest.mark.django_db


def _browser(user: User) -> Client:
    client = Client()
    assert client.login(username=user.email, password=DEFAULT_PASSWORD)
    return client


def test_starting_shows_the_cost_then_leads_to_the_job_page(user: User) -> None:
    give_credits(user, 10)
    media = backing_media(user)
    client = _browser(user)
    page = client.get(f"/stems/new/?media={media.public_id}")
    assert page.status_code == 200
    assert "<strong>3</strong> credits" in page.content.decode()
    assert "Spleeter" in page.content.decode()
    response = client.post("/stems/new/", {"media_id": str(media.public_id)})
    job = StemSeparationJob.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == f"/stems/{job.public_id}/"
    running = client.get(f"/stems/{job.public_id}/").content.decode()
    assert 'id="job-progress"' in running


def test_starting_without_credits_says_why(user: User) -> None:
    media = backing_media(user)
    response = _browser(user).post("/stems/new/", {"media_id": str(media.public_id)})
    assert response.status_code == 402
    assert 'role="alert"' in response.content.decode()
    assert not StemSeparationJob.objects.exists()


def test_the_results_page_offers_a_player_downloads_and_analysis_per_stem(
    user: User, other_user: User
) -> None:
    give_credits(user, 10)
    media = backing_media(user)
    client = _browser(user)
    client.post("/stems/new/", {"media_id": str(media.public_id)})
    job = StemSeparationJob.objects.get(owner=user)
    job_run(kind=STEM_SEPARATION_KIND, job_id=job.pk, worker_host="w")
    page = client.get(f"/stems/{job.public_id}/").content.decode()
    for name in ("vocals", "drums", "bass", "other"):
        assert f'src="/api/v1/stems/{job.public_id}/{name}.flac"' in page
        assert f'action="/stems/{job.public_id}/{name}/analyse/"' in page
    assert page.count('class="small stem-solo"') == 4
    assert "<script>" not in page
    assert "/static/js/stems.js" in page
    assert _browser(other_user).get(f"/stems/{job.public_id}/").status_code == 404
    analysed = client.post(f"/stems/{job.public_id}/vocals/analyse/")
    assert analysed.status_code == 302
    assert analysed["Location"].startswith("/analyses/")


def test_staff_see_separations_in_the_admin(user: User) -> None:
    give_credits(user, 10)
    client = _browser(user)
    client.post("/stems/new/", {"media_id": str(backing_media(user).public_id)})
    job = StemSeparationJob.objects.get(owner=user)
    staff = _browser(UserFactory.create(is_staff=True, is_superuser=True))
    listing = staff.get("/admin/stems/stemseparationjob/")
    assert listing.status_code == 200
    assert f"/admin/stems/stemseparationjob/{job.pk}/change/" in listing.content.decode()
    assert staff.get("/admin/stems/stemseparationjob/add/").status_code == 403
