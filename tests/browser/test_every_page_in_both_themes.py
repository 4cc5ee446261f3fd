"""Every page in light and dark, on a desktop and at phone width: WCAG 2.1 AA per axe-core,
no sideways scrolling at 390 px, a skip link, and the header folded into a menu on phones.

With PHONOGLYPH_SCREENSHOTS=<folder> the walk also saves the screenshots kept in
docs/screenshots/ (scripts/screenshots sets it). The results page is checked and pictured
mid-playback, its visualizer open.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, ViewportSize, expect
from rest_framework.test import APIClient

from accounts.confirmation import confirmation_token_make
from accounts.models import User
from accounts.roles import user_role_grant
from accounts.services import api_key_create, user_create
from analysis.models import AnalysisJob
from analysis.tasks import analysis_job_run
from media.models import MediaFile
from monitoring.models import Alert, AlertState
from tests.analysis.audio import click_track_with_chord
from tests.browser.accessibility import axe_path, axe_violations
from tests.browser.conftest import CSP_RECORDER, PageLog
from tests.factories import DEFAULT_PASSWORD
from tests.monitoring.factories import AlertRuleFactory, AnalysisJobFactory
from tests.support.audio import write_wav

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

Scheme = Literal["light", "dark"]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = os.environ.get("PHONOGLYPH_SCREENSHOTS", "")
# The pages docs/screenshots/ shows, by the names the walk gives them.
SCREENSHOT_PAGES = {"landing", "welcome", "upload", "job", "results", "credits", "pipeline-health"}
# The results page is checked (and pictured) mid-playback: past this position, the visualizer
# open and drawing.
PLAYED_SECONDS = 2.0
# Canvas pictures, charts and tables that scroll inside their own box are fine; the page
# itself must not.
PAGE_FITS = "() => document.documentElement.scrollWidth"


@dataclass(frozen=True)
class Site:
    base_url: str
    user: User
    staff: User
    media_id: str
    job_id: str
    running_job_id: str
    confirm_path: str


@pytest.fixture
def site(
    live_server: Any,
    settings: Any,
    tmp_path: Path,
    private_broker: Path,
) -> Site:
    """A user with a real analysed upload and a staff user with a firing alert."""
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.CLAMAV_URL = ""
    user = user_create(email="listener@example.com", password=DEFAULT_PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user, name='laptop').raw}")
    wav = write_wav(tmp_path / "groove.wav", click_track_with_chord(seconds=8.0))
    with wav.open("rb") as handle:
        uploaded = client.post("/api/v1/media/", {"file": handle}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    media_id = uploaded.json()["id"]
    started = client.post(
        "/api/v1/analyses/",
        {
            "media": media_id,
            "features": [
                "tempo",
                "key",
                "loudness",
                "onsets",
                "sections",
                "timeline",
                "waveform",
            ],
        },
        format="json",
    )
    assert started.status_code in (201, 202), started.content
    job_id = started.json()["id"]
    assert analysis_job_run.apply(args=(AnalysisJob.objects.get(public_id=job_id).pk,)).successful()
    assert AnalysisJob.objects.get(public_id=job_id).status == AnalysisJob.Status.SUCCEEDED

    running = AnalysisJobFactory.create(
        media=MediaFile.objects.get(public_id=media_id),
        status=AnalysisJob.Status.RUNNING,
        stage="beats",
        progress=40,
        features=["tempo", "key"],
        finished_at=None,
        processing_seconds=None,
    )

    newcomer = user_create(email="newcomer@example.com", password=DEFAULT_PASSWORD, confirmed=False)
    staff = user_create(email="ops@example.com", password=DEFAULT_PASSWORD)
    user_role_grant(user=staff, staff=True)
    now = timezone.now()
    for seconds in (4.0, 9.0):
        AnalysisJobFactory.create(processing_seconds=seconds, finished_at=now)
    Alert.objects.create(
        rule=AlertRuleFactory.create(name="Queue backed up", severity="high"),
        fingerprint="f" * 64,
        service="queues",
        severity="high",
        state=AlertState.FIRING,
        value=7,
        summary="Queue backed up: 7 messages waiting",
        pending_since=now,
        fired_at=now,
        last_seen=now,
    )
    return Site(
        base_url=live_server.url,
        user=user,
        staff=staff,
        media_id=media_id,
        job_id=job_id,
        running_job_id=str(running.public_id),
        confirm_path=reverse(
            "accounts:signup-confirm", args=[confirmation_token_make(user=newcomer)]
        ),
    )


@pytest.fixture
def new_context(chromium: Browser) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def make(*, scheme: Scheme, viewport: ViewportSize, base_url: str) -> tuple[Page, PageLog]:
        context = chromium.new_context(
            base_url=base_url,
            color_scheme=scheme,
            viewport=viewport,
        )
        context.set_default_timeout(15_000)
        log = PageLog()
        context.expose_function("__phonoglyphCspViolation", log.on_csp_violation)
        context.add_init_script(CSP_RECORDER)
        # An init script is not subject to the page's CSP, so axe needs no policy exception.
        context.add_init_script(path=str(axe_path()))
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", log.on_page_error)
        return page, log

    yield make
    for context in contexts:
        context.close()


def _log_in(page: Page, email: str) -> None:
    page.goto("/account/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))


def _pages(site: Site) -> dict[str, str]:
    return {
        "welcome": "/welcome/",
        "dashboard": "/dashboard/",
        "library": "/media/",
        "upload": "/media/upload/",
        "file": f"/media/{site.media_id}/",
        "analyses": "/analyses/",
        "start": f"/analyses/new/?media={site.media_id}",
        "results": f"/analyses/{site.job_id}/",
        "job": f"/analyses/{site.running_job_id}/",
        "credits": "/credits/",
        "notifications": "/notifications/",
        "account": "/account/",
        "password": "/account/password/change/",
    }


ANONYMOUS_PAGES = {
    "landing": "/",
    "login": "/account/login/",
    "signup": "/account/signup/",
    "signup-done": "/account/signup/done/",
    "confirm-resend": "/account/signup/confirm/resend/",
    "confirm-refused": "/account/signup/confirm/not-a-signed-link/",
    "reset": "/account/password/reset/",
    "api-docs": "/api/v1/docs/",
}
STAFF_PAGES = {"pipeline-health": "/admin/monitoring/alert/pipeline-health/", "admin": "/admin/"}


def _play_past_the_start(page: Page) -> None:
    """Open the visualizer and play the track until the playhead is past PLAYED_SECONDS."""
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready")
    page.get_by_role("button", name="Visualizer preview").click()
    page.evaluate("document.getElementById('audio-player').play()")
    page.wait_for_function(
        "(t) => document.getElementById('audio-player').currentTime > t && "
        "Number(document.getElementById('visualizer-canvas').dataset.frames) > 10",
        arg=PLAYED_SECONDS,
    )


def _check(page: Page, name: str, path: str, *, scheme: str, phone: bool) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    if name == "results":
        _play_past_the_start(page)
    problems = [
        f"{name} ({scheme}{', phone' if phone else ''}): {violation['id']} "
        f"{violation['help']} at {violation['nodes']}"
        for violation in axe_violations(page)
    ]
    if phone:
        width = page.evaluate(PAGE_FITS)
        if width > PHONE["width"]:
            problems.append(f"{name} ({scheme}, phone): scrolls sideways, {width} px wide")
    if SCREENSHOTS and name in SCREENSHOT_PAGES:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = f"{scheme}{'-phone' if phone else ''}"
        # The results page whole: player, visualizer and panes with their playhead.
        page.screenshot(path=str(folder / f"{name}-{suffix}.png"), full_page=name == "results")
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_every_page_passes_axe_and_fits_a_phone(
    site: Site, new_context: Any, scheme: Scheme, phone: bool
) -> None:
    viewport = PHONE if phone else DESKTOP
    problems: list[str] = []

    logs: list[PageLog] = []
    for email, pages in (
        (None, {**ANONYMOUS_PAGES, "confirm": site.confirm_path}),
        (site.user.email, _pages(site)),
        (site.staff.email, STAFF_PAGES),
    ):
        page, log = new_context(scheme=scheme, viewport=viewport, base_url=site.base_url)
        logs.append(log)
        if email:
            _log_in(page, email)
        for name, path in pages.items():
            problems += _check(page, name, path, scheme=scheme, phone=phone)

    assert not problems, "\n".join(problems)
    assert [error for log in logs for error in log.page_errors] == []
    assert [violation for log in logs for violation in log.csp_violations] == []


def test_the_header_folds_into_a_menu_on_a_phone(site: Site, new_context: Any) -> None:
    page, _ = new_context(scheme="light", viewport=PHONE, base_url=site.base_url)
    _log_in(page, site.user.email)
    menu = page.get_by_role("button", name="Menu")
    credits = page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits")

    expect(menu).to_be_visible()
    expect(credits).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    credits.click()
    page.wait_for_url(re.compile(r"/credits/$"))


def test_a_skip_link_is_the_first_stop_and_focus_is_visible(site: Site, new_context: Any) -> None:
    page, _ = new_context(scheme="dark", viewport=DESKTOP, base_url=site.base_url)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_theme_follows_the_system_until_the_toggle_is_used_and_is_remembered(
    site: Site, new_context: Any
) -> None:
    page, _ = new_context(scheme="dark", viewport=DESKTOP, base_url=site.base_url)
    background = "() => getComputedStyle(document.body).backgroundColor"
    _log_in(page, site.user.email)
    assert page.evaluate(background) == "rgb(15, 17, 23)"

    page.get_by_role("button", name="Light theme").click()
    page.wait_for_load_state()
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    site.user.refresh_from_db()
    assert site.user.theme == "light"

    other, _ = new_context(scheme="dark", viewport=DESKTOP, base_url=site.base_url)
    _log_in(other, site.user.email)
    assert other.evaluate(background) == "rgb(255, 255, 255)"


def test_a_new_api_key_is_copied_and_revoking_asks_first(site: Site, new_context: Any) -> None:
    page, _ = new_context(scheme="light", viewport=DESKTOP, base_url=site.base_url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _log_in(page, site.user.email)
    page.goto("/account/")
    page.get_by_label("Name").fill("ci")
    page.get_by_role("button", name="Create API key").click()
    raw = page.locator("#new-api-key").inner_text().strip()

    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == raw

    page.goto("/account/")
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.get_by_role("button", name=re.compile(r"^Revoke key")).first.click()
    assert len(questions) == 1
    assert questions[0].startswith("Revoke the key phg_")
    assert site.user.api_keys.filter(revoked_at__isnull=True).count() == 2
