"""Notifications in a real Chromium, against a live server and a real worker: an analysis that
ends while its owner is on another page reaches them (header count, spoken announcement,
browser notification) and links to its results; the job page's tab shows the progress."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import redis
from playwright.sync_api import expect

from analysis.models import AnalysisJob
from notifications.models import Notification
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.support.workers import Worker, wait_for, worker_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Chromium raises the notification itself; the page only records what it asked for, so the
# test can read it (a headless browser shows nothing on screen).
RECORD_BROWSER_NOTIFICATIONS = """
(() => {
  const Original = window.Notification;
  if (!Original) { return; }
  window.__raisedNotifications = [];
  function Recording(title, options) {
    window.__raisedNotifications.push({ title, body: options && options.body });
    return new Original(title, options);
  }
  Object.defineProperty(Recording, "permission", { get: () => Original.permission });
  Recording.requestPermission = (...args) => Original.requestPermission(...args);
  window.Notification = Recording;
})();
"""


@pytest.fixture
def start_worker(
    postgres_url: str,
    redis_url: str,
    browser_session: BrowserSession,
    settings: Any,
    tmp_path: Path,
) -> Iterator[Callable[[], Worker]]:
    """Start the analysis worker when the test says so; it is stopped afterwards."""
    redis.Redis.from_url(redis_url).flushdb()
    started: list[Worker] = []

    def start() -> Worker:
        worker = worker_start(
            name="notifications",
            queue_name="analysis",
            also_queues=["celery"],
            log_dir=tmp_path,
            database=True,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            AWS_STORAGE_BUCKET_NAME="",
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    redis.Redis.from_url(redis_url).flushdb()


def _start_analysis(session: BrowserSession, media_public_id: UUID) -> UUID:
    page = session.page
    session.open(f"/analyses/new/?media={media_public_id}")
    page.get_by_role("button", name="Start analysis").click()
    page.wait_for_url(re.compile(r"/analyses/[0-9a-f-]{36}/$"))
    return UUID(page.url.rstrip("/").rsplit("/", 1)[1])


def test_an_analysis_that_ends_on_another_page_reaches_its_owner_and_links_to_the_results(
    browser_session: BrowserSession, start_worker: Callable[[], Worker], settings: Any
) -> None:
    settings.PHONOGLYPH_NOTIFICATIONS_POLL_SECONDS = 1
    page = browser_session.page
    page.context.grant_permissions(["notifications"], origin=browser_session.base_url)
    page.context.add_init_script(RECORD_BROWSER_NOTIFICATIONS)
    user = UserFactory.create()
    give_credits(user)
    media = MediaFileFactory.create(owner=user, display_name="groove.wav", duration_seconds=8.0)
    _log_in(browser_session, user.email)

    # No worker yet: the job waits, and its page says so in words, in the body and the tab.
    job_id = _start_analysis(browser_session, media.public_id)
    expect(page.locator("#job-stage")).to_have_text("Waiting for a worker")
    page.wait_for_function("() => document.title.startsWith('Waiting for a worker — Analysis')")
    stop = page.get_by_role("button", name="Stop notifying me in this browser")
    expect(stop).to_be_hidden()
    page.get_by_role("button", name="Notify me in this browser").click()
    expect(page.get_by_role("status").filter(has_text="This browser will notify")).to_be_visible()
    expect(page.get_by_role("button", name="Notify me in this browser")).to_be_hidden()
    expect(stop).to_be_visible()

    # The owner leaves for the library; the analysis runs and ends meanwhile.
    browser_session.open("/media/")
    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    worker = start_worker()
    wait_for(
        lambda: AnalysisJob.objects.filter(public_id=job_id, status="succeeded").exists(),
        timeout=120,
        what=f"analysis {job_id} to succeed\n{worker.output()}",
    )
    expect(header.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    expect(page.locator("#notifications-live")).to_have_text(
        "New notification: Analysis of groove.wav finished."
    )
    page.wait_for_function("() => window.__raisedNotifications.length === 1")
    assert page.evaluate("window.__raisedNotifications") == [
        {"title": "Analysis of groove.wav finished", "body": "The results are ready."}
    ]

    # The notification opens the results and is read from then on.
    header.get_by_role("link", name="Notifications 1 unread").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    page.get_by_role("link", name="Analysis of groove.wav finished").click()
    page.wait_for_url(re.compile(rf"/analyses/{job_id}/$"))
    expect(page.locator("#analysis-job .analysis-summary")).to_be_visible()
    expect(header.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    assert Notification.objects.get(owner=user).read_at is not None
    browser_session.log.assert_clean()


def test_a_running_analysis_shows_its_progress_and_stage_in_the_tab(
    browser_session: BrowserSession, start_worker: Callable[[], Worker], settings: Any
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    give_credits(user, 1000)
    # Long enough that the run lasts several of the page's one-second polls.
    media = MediaFileFactory.create(owner=user, display_name="long.wav", duration_seconds=240.0)
    _log_in(browser_session, user.email)
    start_worker()

    job_id = _start_analysis(browser_session, media.public_id)
    page.wait_for_function(
        "() => /^\\d+% · [A-Z][a-z ]+ — Analysis #[0-9a-f]+ · Phonoglyph$/.test(document.title)",
        timeout=60_000,
    )
    assert page.evaluate("document.querySelector(\"link[rel~='icon']\").href").startswith(
        "data:image/png;base64,"
    )
    stage = page.locator("#job-stage").inner_text()
    assert stage in {
        "Fetching the audio",
        "Reading the audio",
        "Finding the beat",
        "Measuring the loudness",
        "Finding the key",
        "Finding the sections",
        "Saving the results",
        "Finishing",
    }

    # Once it ends the page shows the results under its own title again.
    page.wait_for_function(
        "() => document.title.startsWith('Analysis #')", timeout=120_000, polling=500
    )
    expect(page.locator("#analysis-job .analysis-summary")).to_be_visible()
    assert AnalysisJob.objects.get(public_id=job_id).status == "succeeded"
    browser_session.log.assert_clean()
