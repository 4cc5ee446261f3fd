"""The results page in a real Chromium, against a live server and a real worker: a real
recording plays, seeks by click and keyboard, zooms, and its playhead and visualizer move."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from rest_framework.test import APIClient

from accounts.services import api_key_create
from analysis.models import AnalysisJob
from engine.decode import sniff_audio_format
from engine.preview import transcode_preview
from media.models import MediaFile
from tests.analysis.conftest import give_credits
from tests.browser.conftest import BrowserSession
from tests.browser.test_pages_in_a_browser import _log_in
from tests.factories import UserFactory
from tests.media.audio import UPLOAD_EXTENSIONS, sine
from tests.support.audio import encode
from tests.support.workers import Worker, local_storage_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RECORDING = Path("tests/data/real/candombe_csic.1995_ansina1_01_first16s.flac")

# Resolves with the decoded duration of a data: URL, or rejects when Chromium cannot decode it.
DECODE = """
async (url) => {
  const bytes = await (await fetch(url)).arrayBuffer();
  const context = new OfflineAudioContext(2, 48000, 48000);
  const buffer = await context.decodeAudioData(bytes);
  const audio = new Audio(url);
  await new Promise((ok, fail) => { audio.oncanplaythrough = ok; audio.onerror = fail; });
  return { decoded: buffer.duration, element: audio.duration,
           canPlay: audio.canPlayType("audio/webm; codecs=opus") };
}
"""


@pytest.fixture
def worker(
    postgres_url: str,
    redis_url: str,
    browser_session: BrowserSession,
    settings: Any,
    tmp_path: Path,
) -> Iterator[Worker]:
    with local_storage_worker(
        name="player",
        queue_name="analysis",
        also_queues=["celery"],
        log_dir=tmp_path,
        redis_url=redis_url,
    ) as started:
        yield started


def _analysed(worker: Worker) -> tuple[Any, AnalysisJob]:
    user = UserFactory.create()
    give_credits(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    with RECORDING.open("rb") as handle:
        uploaded = client.post("/api/v1/media/", {"file": handle}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    started = client.post("/api/v1/analyses/", {"media": uploaded.json()["id"]}, format="json")
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]
    wait_for(
        lambda: AnalysisJob.objects.filter(public_id=job_id, status="succeeded").exists(),
        timeout=120,
        what=f"analysis {job_id} to succeed\n{worker.output()}",
    )
    return user, AnalysisJob.objects.select_related("media").get(public_id=job_id)


def test_a_real_recording_plays_seeks_zooms_and_drives_the_playhead_and_visualizer(
    browser_session: BrowserSession, worker: Worker
) -> None:
    page = browser_session.page
    user, job = _analysed(worker)
    media = MediaFile.objects.get(pk=job.media_id)
    assert media.preview_key.startswith("previews/")

    _log_in(browser_session, user.email)
    browser_session.open(f"/analyses/{job.public_id}/")
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready === 'true'")
    page.wait_for_function("() => document.getElementById('audio-player').readyState >= 1")
    assert page.evaluate("document.getElementById('audio-player').currentSrc").endswith(
        f"/api/v1/media/{media.public_id}/preview/"
    )
    duration = page.evaluate("document.getElementById('audio-player').duration")
    assert duration == pytest.approx(job.summary["duration"], abs=0.1)

    # Keyboard: space plays; the playhead follows the audio.
    page.locator("#analysis-panes").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.getElementById('audio-player').currentTime > 0.5")
    first = page.evaluate("document.getElementById('playhead').style.transform")
    page.wait_for_function(
        "(before) => document.getElementById('playhead').style.transform !== before", arg=first
    )

    # The visualizer renders new frames as the audio plays.
    page.get_by_role("button", name="Visualizer preview").click()
    page.wait_for_function(
        "() => Number(document.getElementById('visualizer-canvas')?.dataset.frames) > 5"
    )
    seen = page.evaluate("document.getElementById('visualizer-canvas').dataset.time")
    page.wait_for_function(
        "(t) => document.getElementById('visualizer-canvas').dataset.time !== t", arg=seen
    )

    # Click seeks: the middle of the waveform pane is the middle of the track. (Space on a
    # focused button presses the button, so the panes take the focus back first.)
    page.locator("#analysis-panes").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.getElementById('audio-player').paused")
    box = page.locator("#chart-waveform").bounding_box()
    assert box is not None
    gutter = 64
    page.mouse.click(box["x"] + gutter + (box["width"] - gutter) / 2, box["y"] + box["height"] / 2)
    clicked = page.evaluate("document.getElementById('audio-player').currentTime")
    assert clicked == pytest.approx(duration / 2, abs=0.3)

    # Arrows step to the next beat; shift+arrow to the next bar (or four beats).
    beats = job.summary["beats"]
    page.keyboard.press("ArrowRight")
    stepped = page.evaluate("document.getElementById('audio-player').currentTime")
    assert stepped == pytest.approx(min(b for b in beats if b > clicked + 0.01), abs=0.01)
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("document.getElementById('audio-player').currentTime") > stepped

    # Zoom in with + (the view narrows and finer data is fetched), back out with the button.
    with page.expect_response(re.compile(r"/timeline/\?encoding=q8&start=")):
        page.keyboard.press("+")
        page.keyboard.press("+")
        page.keyboard.press("+")
    expect(page.locator("#zoom-level")).to_contain_text("shown")
    page.get_by_role("button", name="Whole track").click()
    expect(page.locator("#zoom-level")).to_have_text("whole track")

    # Every chart has its numbers as text.
    for chart in ("waveform", "loudness", "chroma", "bands"):
        canvas = page.locator(f"#chart-{chart}")
        assert canvas.get_attribute("role") == "img"
        expect(page.locator(f"#chart-{chart}-text")).not_to_be_empty()
    browser_session.log.assert_clean()


def test_range_requests_are_206_for_the_owner_and_404_for_anyone_else(
    browser_session: BrowserSession, worker: Worker
) -> None:
    user, job = _analysed(worker)
    other = UserFactory.create()
    for who, expected in ((user, 206), (other, 404)):
        browser_session.page.context.clear_cookies()
        _log_in(browser_session, who.email)
        for kind in ("stream", "preview"):
            answer = browser_session.page.request.get(
                f"/api/v1/media/{job.media.public_id}/{kind}/", headers={"Range": "bytes=0-99"}
            )
            assert answer.status == expected


def test_every_accepted_format_gets_a_preview_chromium_plays(
    chromium: Browser, tmp_path: Path
) -> None:
    page = chromium.new_page()
    try:
        for extension in UPLOAD_EXTENSIONS:
            source = encode(sine(1.0), tmp_path / f"tone.{extension}")
            container = sniff_audio_format(source.read_bytes()[:64])
            assert container is not None
            preview = transcode_preview(
                source,
                input_format=container,
                output=tmp_path / f"{extension}.webm",
                duration_seconds=1.0,
            )
            url = "data:audio/webm;base64," + base64.b64encode(preview.path.read_bytes()).decode()
            played = page.evaluate(DECODE, url)
            assert played["canPlay"] == "probably", extension
            assert played["decoded"] == pytest.approx(1.0, abs=0.1), extension
            assert played["element"] == pytest.approx(1.0, abs=0.1), extension
    finally:
        page.close()
