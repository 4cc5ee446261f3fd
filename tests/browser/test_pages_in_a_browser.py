"""A person's path through the pages in a real Chromium: sign up, upload, analyse, read results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.services import api_key_create
from analysis.models import AnalysisJob
from analysis.tasks import analysis_job_run
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.browser.conftest import BrowserSession
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.audio import write_wav
from tests.support.signup import confirmation_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Records the progress bar's states in sessionStorage, which survives the navigation that
# follows a successful upload.
WATCH_PROGRESS = """
() => {
  const bar = document.getElementById("upload-progress");
  sessionStorage.setItem("progress", "[]");
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("progress"));
    seen.push({ hidden: bar.hidden, value: bar.value });
    sessionStorage.setItem("progress", JSON.stringify(seen));
  }).observe(bar, { attributes: true });
}
"""

# True when some pixel of every canvas differs from its top-left pixel (the background).
CANVASES_DRAWN = """
() => {
  const canvases = [...document.querySelectorAll("canvas")];
  return canvases.length > 0 && canvases.every((canvas) => {
    if (canvas.width === 0 || canvas.height === 0) { return false; }
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 4; i < pixels.length; i += 4) {
      for (let channel = 0; channel < 4; channel++) {
        if (pixels[i + channel] !== pixels[channel]) { return true; }
      }
    }
    return false;
  });
}
"""


def _log_in(session: BrowserSession, email: str) -> None:
    page = session.page
    session.open("/account/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)


def test_a_new_user_signs_up_confirms_uploads_with_progress_and_sees_the_file_in_the_library(
    browser_session: BrowserSession, tmp_path: Path
) -> None:
    page = browser_session.page
    wav = write_wav(tmp_path / "click-and-chord.wav", click_track_with_chord(seconds=3.0))

    browser_session.open("/account/signup/")
    page.get_by_label("Email").fill("new.listener@example.com")
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    page.get_by_label("Password again").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("link", name="Log in")).to_have_count(1)

    browser_session.open(confirmation_path("new.listener@example.com"))
    page.get_by_role("button", name="Confirm and log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Phonoglyph")
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)

    browser_session.open("/media/upload/")
    page.evaluate(WATCH_PROGRESS)
    page.locator("#upload-form input[type=file]").set_input_files(wav)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/media/[0-9a-f-]{36}/$"))

    progress = page.evaluate("JSON.parse(sessionStorage.getItem('progress'))")
    assert progress[0]["hidden"] is False
    assert progress[-1] == {"hidden": False, "value": 100}
    expect(page.get_by_role("heading", level=1)).to_have_text("click-and-chord.wav")
    meta = page.locator("dl.media-meta")
    expect(meta).to_contain_text("wav (pcm_s16le)")
    expect(meta).to_contain_text("3.00 s")

    page.get_by_role("link", name="Back to your library").click()
    row = page.locator("table.data tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("click-and-chord.wav")
    expect(row).to_contain_text("3.0 s")
    browser_session.log.assert_clean()


def test_the_results_page_draws_the_analysis_pictures(
    browser_session: BrowserSession, private_broker: Path, tmp_path: Path
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    give_credits(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    wav = write_wav(tmp_path / "groove.wav", click_track_with_chord(seconds=8.0))
    with wav.open("rb") as handle:
        uploaded = client.post("/api/v1/media/", {"file": handle}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content

    _log_in(browser_session, user.email)
    browser_session.open(f"/media/{uploaded.json()['id']}/")
    page.get_by_role("link", name="Analyse…").click()
    page.get_by_role("button", name="Start analysis").click()
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/$"))
    job_url = page.url
    expect(page.locator("#job-status")).to_have_text("Queued", ignore_case=True)

    # The person looks at their list while the job runs. Leaving right after one of the waiting
    # page's polls answered, and once the list's first look for notifications answered, means
    # no request is in flight while the task below runs: with SQLite, the live server's threads
    # share this thread's in-memory database connection.
    poll_url = page.locator("#analysis-job").get_attribute("data-progress-url")
    assert poll_url is not None
    with page.expect_response(lambda response: response.url.endswith(poll_url)):
        pass
    with page.expect_response(lambda response: "/notifications/status.json" in response.url):
        browser_session.open("/analyses/")
    job = AnalysisJob.objects.get(owner=user)
    assert job_url.endswith(f"/analyses/{job.public_id}/")
    assert job.published_at is not None
    # The upload queued its playable preview; the page, the analysis.
    published = sorted(
        json.loads(message.read_text())["headers"]["task"]
        for message in private_broker.glob("*.msg")
    )
    assert published == ["analysis.tasks.analysis_job_run", "media.tasks.media_preview_make"]

    # The worker's part, in this process: the real task, on the job the page started.
    assert analysis_job_run.apply(args=(job.pk,)).successful()

    page.get_by_role("link", name=job.short_id, exact=True).click()
    page.wait_for_url(job_url)
    expect(page.locator("#job-status")).to_have_text("Succeeded")
    tempo = page.locator(".stat", has_text="BPM")
    bpm = float(re.sub(r"[^0-9.]", "", tempo.inner_text()))
    assert bpm == pytest.approx(120.0, abs=2.0)
    page.wait_for_function(CANVASES_DRAWN)
    assert page.locator("canvas").count() == 4

    for name in ("Download JSON", "Download CSV"):
        href = page.get_by_role("link", name=name).get_attribute("href")
        assert href is not None
        assert page.request.get(href).status == 200
    browser_session.log.assert_clean()


def test_a_hostile_upload_shows_a_plain_language_error(
    browser_session: BrowserSession, tmp_path: Path
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    disguised = tmp_path / "song.mp3"
    disguised.write_text("<!doctype html><html><body><script>alert(1)</script></body></html>")

    _log_in(browser_session, user.email)
    browser_session.open("/media/upload/")
    page.locator("#upload-form input[type=file]").set_input_files(disguised)
    with page.expect_response("**/api/v1/media/") as answer:
        page.get_by_role("button", name="Upload").click()
    assert 400 <= answer.value.status < 500

    error = page.locator("#upload-error")
    detail = answer.value.json()["detail"]
    assert "not audio" in detail
    expect(error).to_have_text(detail)
    assert re.search(r"/media/upload/$", page.url)
    # Chrome logs every 4xx answer to the console; that refusal is the point of this test.
    refusal_logged = re.compile(rf"status of {answer.value.status} .*/api/v1/media/\)$")
    browser_session.log.assert_clean(expected_console_errors=(refusal_logged,))
