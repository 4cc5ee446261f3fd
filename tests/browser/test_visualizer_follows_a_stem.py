"""The results page in a real Chromium: once a stem of the track has its own analysis, the
visualizer can follow that stem instead of the mix, while playback goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from analysis.models import AnalysisJob
from analysis.services import analysis_job_create
from analysis.tasks import analysis_job_run
from stems.services import stem_analysis_start, stem_separation_job_create
from stems.tasks import stem_separation_job_run
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.stems.conftest import backing_media, give_credits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PLAYER = "document.getElementById('audio-player')"
CANVAS = "document.getElementById('visualizer-canvas')"


def _analysed(job: AnalysisJob) -> AnalysisJob:
    # The worker's part, in this process: the real task and engine, on the job just started.
    assert analysis_job_run.apply(args=(job.pk,)).successful()
    done = AnalysisJob.objects.get(pk=job.pk)
    assert done.status == "succeeded", done.error_message
    return done


def test_the_visualizer_follows_an_analysed_stem_while_the_track_plays(
    browser_session: BrowserSession, private_broker: Path
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    give_credits(user, amount=1000)
    media = backing_media(user, seconds=8.0)
    mix = _analysed(analysis_job_create(user=user, media_public_id=media.public_id, features=None))
    separation = stem_separation_job_create(user=user, media_public_id=media.public_id)
    assert stem_separation_job_run.apply(args=(separation.pk,)).successful()
    _log_in(browser_session, user.email)

    # No stem analysed yet: the visualizer follows the mix and offers nothing else.
    browser_session.open(f"/analyses/{mix.public_id}/")
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready === 'true'")
    expect(page.locator("#visualizer-source")).to_have_count(0)

    drums = _analysed(stem_analysis_start(user=user, public_id=separation.public_id, stem="drums"))
    assert drums.summary["beats"] != mix.summary["beats"] or (
        drums.summary["onsets"] != mix.summary["onsets"]
    )

    browser_session.open(f"/analyses/{mix.public_id}/")
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready === 'true'")
    page.get_by_role("button", name="Visualizer preview").click()
    source = page.get_by_label("Visualizer follows:")
    expect(source.locator("option")).to_have_text(["Mix", "Drums"])
    page.wait_for_function(f"() => Number({CANVAS}?.dataset.frames) > 0")
    assert page.evaluate(f"{CANVAS}.dataset.source") == "mix"
    assert page.evaluate(f"{CANVAS}.dataset.analysis") == str(mix.public_id)

    page.evaluate(f"{PLAYER}.play()")
    page.wait_for_function(f"() => {PLAYER}.currentTime > 0.5")
    source.select_option("drums")
    page.wait_for_function(f"() => {CANVAS}.dataset.source === 'drums'")
    assert page.evaluate(f"{CANVAS}.dataset.analysis") == str(drums.public_id)
    switched_at = page.evaluate(f"{PLAYER}.currentTime")
    # The stem's visualizer draws new frames at new times while the same audio keeps playing.
    page.wait_for_function(f"() => Number({CANVAS}.dataset.frames) > 10")
    page.wait_for_function(
        f"(t) => !{PLAYER}.paused && {PLAYER}.currentTime > t + 0.5 && "
        f"Number({CANVAS}.dataset.time) > t + 0.5",
        arg=switched_at,
    )

    source.select_option("mix")
    page.wait_for_function(f"() => {CANVAS}.dataset.source === 'mix'")
    assert page.evaluate(f"{CANVAS}.dataset.analysis") == str(mix.public_id)
    assert not page.evaluate(f"{PLAYER}.paused")
    browser_session.log.assert_clean()
