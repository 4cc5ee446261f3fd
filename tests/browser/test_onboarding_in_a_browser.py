"""A newcomer's first steps in a real Chromium, against a live server and a real worker:
welcome → "Try it with a sample track" → the sample analysed → results; then an upload that
starts its analysis in the same step → the job page → results. The pages on the way pass axe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from analysis.models import AnalysisJob
from billing.selectors import credit_balance_for_user
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.browser.accessibility import axe_path, axe_violations
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.support.audio import write_wav
from tests.support.workers import Worker, local_storage_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CREDIT = "from GuitarSet by Q. Xi, R. Bittner, J. Pauwels, X. Ye and J. P. Bello"
# A job page reloads itself once the job ends; the real engine needs a while on 22 s of audio.
ANALYSIS_TIMEOUT_MS = 180_000


@pytest.fixture
def worker(
    postgres_url: str,
    redis_url: str,
    browser_session: BrowserSession,
    settings: Any,
    tmp_path: Path,
) -> Iterator[Worker]:
    with local_storage_worker(
        name="onboarding",
        queue_name="analysis",
        also_queues=["celery"],
        log_dir=tmp_path,
        redis_url=redis_url,
    ) as started:
        yield started


@pytest.fixture
def axe_session(browser_session: BrowserSession) -> BrowserSession:
    # An init script is not subject to the page's CSP, so axe needs no policy exception.
    browser_session.page.context.add_init_script(path=str(axe_path()))
    return browser_session


def _accessible(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    problems = [
        f"{name}: {violation['id']} {violation['help']} at {violation['nodes']}"
        for violation in axe_violations(page)
    ]
    assert problems == []


def _results_shown(page: Page, worker: Worker) -> None:
    status = page.locator("#job-status")
    try:
        expect(status).to_have_text(re.compile("Succeeded|Failed"), timeout=ANALYSIS_TIMEOUT_MS)
    except AssertionError:
        raise AssertionError(f"the analysis did not end\n{worker.output()}") from None
    expect(status).to_have_text("Succeeded")
    expect(page.get_by_role("link", name="Download JSON")).to_be_visible()
    expect(page.locator(".analysis-summary")).to_contain_text("BPM")
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready === 'true'")


def test_a_newcomer_tries_the_sample_track_and_reads_its_results(
    axe_session: BrowserSession, worker: Worker
) -> None:
    page = axe_session.page
    user = UserFactory.create()
    _log_in(axe_session, user.email)

    axe_session.open("/welcome/")
    expect(page.get_by_text(CREDIT)).to_be_visible()
    _accessible(page, "welcome")
    page.get_by_role("button", name="Try it with a sample track").click()

    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("status").filter(has_text="free analysis has started")).to_be_visible()
    expect(page.get_by_text(CREDIT)).to_be_visible()
    _accessible(page, "sample job page")
    _results_shown(page, worker)
    expect(page.get_by_text(CREDIT)).to_be_visible()
    _accessible(page, "sample results")
    job = AnalysisJob.objects.get(owner=user)
    assert job.is_sample_track
    assert job.credits_reserved == 0
    assert credit_balance_for_user(user=user).available == 0

    page.get_by_role("link", name=re.compile("^Sample track")).first.click()
    page.wait_for_url(re.compile(rf"/media/{job.media.public_id}/$"))
    expect(page.get_by_text(CREDIT)).to_be_visible()
    expect(page.get_by_role("link", name=f"Analysis #{job.short_id}")).to_be_visible()
    _accessible(page, "sample file page")

    axe_session.open("/welcome/")
    expect(page.get_by_role("button", name="Try it with a sample track")).to_have_count(0)
    expect(page.get_by_role("link", name="see its analysis")).to_be_visible()
    axe_session.log.assert_clean()


def test_an_upload_starts_its_analysis_in_the_same_step(
    axe_session: BrowserSession, worker: Worker, tmp_path: Path
) -> None:
    page = axe_session.page
    user = UserFactory.create()
    give_credits(user, 10)
    wav = write_wav(tmp_path / "groove.wav", click_track_with_chord(seconds=4.0))
    _log_in(axe_session, user.email)

    axe_session.open("/media/upload/")
    choice = page.get_by_label("Analyse after upload")
    expect(choice).to_be_checked()
    expect(page.get_by_text("You have 10 credits.")).to_be_visible()
    _accessible(page, "upload")
    page.get_by_label("Audio file").set_input_files(str(wav))
    page.get_by_role("button", name="Upload").click()

    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/$"))
    job = AnalysisJob.objects.get(owner=user)
    assert job.credits_reserved == 1
    expect(page.get_by_role("link", name="groove.wav")).to_be_visible()
    _results_shown(page, worker)
    assert credit_balance_for_user(user=user).available == 9

    page.get_by_role("link", name="groove.wav").click()
    page.wait_for_url(re.compile(rf"/media/{job.media.public_id}/$"))
    expect(page.get_by_role("link", name=f"Analysis #{job.short_id}")).to_be_visible()
    expect(page.get_by_role("heading", name="Stem separations of this file")).to_be_visible()
    _accessible(page, "file page")

    axe_session.open("/dashboard/")
    expect(page.get_by_role("link", name=f"Analysis #{job.short_id}")).to_be_visible()
    expect(page.get_by_text("9 available")).to_be_visible()
    _accessible(page, "dashboard")
    axe_session.log.assert_clean()


def test_without_credits_the_upload_is_kept_and_the_page_says_why(
    axe_session: BrowserSession, tmp_path: Path
) -> None:
    page = axe_session.page
    user = UserFactory.create()
    wav = write_wav(tmp_path / "groove.wav", click_track_with_chord(seconds=2.0))
    _log_in(axe_session, user.email)

    axe_session.open("/media/upload/")
    choice = page.get_by_label("Analyse after upload")
    expect(choice).not_to_be_checked()
    choice.check()
    page.get_by_label("Audio file").set_input_files(str(wav))
    page.get_by_role("button", name="Upload").click()

    expect(page.locator("#upload-error")).to_contain_text(
        "The file is kept, but nothing was started"
    )
    page.get_by_role("link", name="Open the uploaded file").click()
    page.wait_for_url(re.compile(r"/media/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", name="groove.wav")).to_be_visible()
    assert not AnalysisJob.objects.filter(owner=user).exists()
    _accessible(page, "file page without analyses")
    axe_session.log.assert_clean()
