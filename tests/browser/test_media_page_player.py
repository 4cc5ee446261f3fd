"""The media page of an upload never analysed plays in a real Chromium: an AIFF, which
Chromium cannot play as uploaded, plays once the worker has made its preview, and the page
switches to that preview without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.services import api_key_create
from analysis.models import AnalysisJob
from media.models import MediaFile
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.media.audio import sine
from tests.support.audio import encode
from tests.support.workers import wait_for, worker_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PLAYER = "document.getElementById('audio-player')"


@pytest.fixture
def clean_broker(postgres_url: str, redis_url: str) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url
    redis.Redis.from_url(redis_url).flushdb()


def test_an_aiff_upload_plays_on_its_media_page_once_its_preview_is_made(
    browser_session: BrowserSession, clean_broker: str, settings: Any, tmp_path: Path
) -> None:
    page = browser_session.page
    user = UserFactory.create()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    aiff = encode(sine(6.0), tmp_path / "tone.aiff")
    with aiff.open("rb") as handle:
        uploaded = client.post("/api/v1/media/", {"file": handle}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    media_id = uploaded.json()["id"]

    # No worker yet: the page says the preview is being prepared, and Chromium cannot play
    # the upload as it is.
    _log_in(browser_session, user.email)
    browser_session.open(f"/media/{media_id}/")
    expect(page.locator("#preview-status")).to_contain_text("Preparing a playable preview")
    assert page.evaluate("document.createElement('audio').canPlayType('audio/aiff')") == ""

    worker = worker_start(
        name="media-page",
        queue_name="celery",
        log_dir=tmp_path,
        database=True,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        AWS_STORAGE_BUCKET_NAME="",
    )
    try:
        wait_for(
            lambda: MediaFile.objects.filter(public_id=media_id, preview_status="ready").exists(),
            timeout=60,
            what=f"the preview of media {media_id}\n{worker.output()}",
        )
    finally:
        worker.stop()

    expect(page.locator("#preview-status")).to_have_text("The playable preview is ready.")
    page.wait_for_function(f"() => {PLAYER}.readyState >= 1")
    assert page.evaluate(f"{PLAYER}.currentSrc").endswith(f"/api/v1/media/{media_id}/preview/")
    assert page.evaluate(f"{PLAYER}.duration") == pytest.approx(6.0, abs=0.1)
    page.evaluate(f"{PLAYER}.play()")
    page.wait_for_function(f"() => {PLAYER}.currentTime > 1.0 && !{PLAYER}.paused")
    assert AnalysisJob.objects.count() == 0
    browser_session.log.assert_clean()
