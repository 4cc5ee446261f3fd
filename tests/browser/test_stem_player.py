"""The stem player in a real Chromium: the four stems play in sync, and one can be soloed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from stems.models import StemSeparationJob
from stems.services import stem_separation_job_create
from stems.tasks import stem_separation_job_run
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.stems.conftest import backing_media, give_credits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Every stem's element: playing or not, its position, and whether it is muted.
PLAYER_STATE = """
() => [...document.querySelectorAll("#stem-player audio")].map((audio) => ({
  stem: audio.dataset.stem, paused: audio.paused, time: audio.currentTime, muted: audio.muted,
}))
"""
ALL_PAST_ONE_SECOND = """
() => [...document.querySelectorAll("#stem-player audio")].every(
  (audio) => !audio.paused && audio.currentTime > 1.0
)
"""


def _spread(state: list[dict[str, object]]) -> float:
    times = [float(str(stem["time"])) for stem in state]
    return max(times) - min(times)


def test_the_stems_play_in_sync_and_one_can_be_soloed(
    browser_session: BrowserSession, private_broker: Path
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    give_credits(user)
    job = stem_separation_job_create(
        user=user, media_public_id=backing_media(user, seconds=8.0).public_id
    )
    # The worker's part, in this process: the real task, on the job the service started.
    assert stem_separation_job_run.apply(args=(job.pk,)).successful()
    assert StemSeparationJob.objects.get(pk=job.pk).status == "succeeded"

    _log_in(browser_session, user.email)
    browser_session.open(f"/stems/{job.public_id}/")
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    expect(page.locator("#stem-player audio")).to_have_count(4)
    expect(page.get_by_text("Spleeter").first).to_be_visible()

    page.get_by_role("button", name="Play").click()
    page.wait_for_function(ALL_PAST_ONE_SECOND)
    state = page.evaluate(PLAYER_STATE)
    assert [stem["stem"] for stem in state] == ["vocals", "drums", "bass", "other"]
    assert not any(stem["muted"] for stem in state)
    assert _spread(state) < 0.1

    page.locator(".stem-solo[data-stem='drums']").click()
    expect(page.locator(".stem-solo[data-stem='drums']")).to_have_attribute("aria-pressed", "true")
    state = page.evaluate(PLAYER_STATE)
    assert {stem["stem"]: stem["muted"] for stem in state} == {
        "vocals": True,
        "drums": False,
        "bass": True,
        "other": True,
    }
    assert not any(stem["paused"] for stem in state)
    page.wait_for_timeout(1000)
    assert _spread(page.evaluate(PLAYER_STATE)) < 0.1

    page.locator(".stem-solo[data-stem='drums']").click()
    assert not any(stem["muted"] for stem in page.evaluate(PLAYER_STATE))
    browser_session.log.assert_clean()
