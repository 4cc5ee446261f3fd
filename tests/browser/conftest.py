"""A real Chromium driven by Playwright against pytest-django's live server.

Every page a test opens records its console errors, uncaught exceptions and CSP violations,
so a test can assert that the pages it walked through were clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from phonoglyph.celery import app as celery_app
from tests.conftest import REQUIRE_SERVICES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Registered before any page script runs; CSP does not apply to it, so it sees every violation.
CSP_RECORDER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__phonoglyphCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
  );
});
"""


@pytest.fixture(scope="module")
def chromium(django_db_setup: None) -> Iterator[Browser]:
    """One browser per module: Playwright's asyncio loop lives only as long as this fixture."""
    if not CHROMIUM.is_file():
        message = f"browser tests need {CHROMIUM} (scripts/ci-system-packages installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping)")
        pytest.skip(message)
    # Playwright's sync API keeps an asyncio loop running in this thread, which Django's
    # async-safety check takes for async code; the ORM calls made meanwhile are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright: Playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class PageLog:
    """What went wrong in the browser while a test used its page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def on_csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def assert_clean(self, *, expected_console_errors: tuple[re.Pattern[str], ...] = ()) -> None:
        """No CSP violation, no uncaught exception, no console error beyond the expected ones."""
        unexpected = [
            error
            for error in self.console_errors
            if not any(expected.search(error) for expected in expected_console_errors)
        ]
        assert self.csp_violations == []
        assert self.page_errors == []
        assert unexpected == []


@dataclass(frozen=True)
class BrowserSession:
    page: Page
    log: PageLog
    base_url: str

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)


@pytest.fixture
def browser_session(
    chromium: Browser, live_server: Any, transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[BrowserSession]:
    """A fresh browser context (no cookies) on the live server, with private storage."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.CLAMAV_URL = ""
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    log = PageLog()
    context.expose_function("__phonoglyphCspViolation", log.on_csp_violation)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    try:
        yield BrowserSession(page=page, log=log, base_url=live_server.url)
    finally:
        context.close()


@pytest.fixture
def private_broker(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Tasks the pages publish go to a filesystem broker in this test's directory.

    Celery keeps its connection pool once made, so the pool is dropped on the way in and out.
    """
    folder = tmp_path / "broker"
    options = {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    for path in options.values():
        if isinstance(path, str):
            Path(path).mkdir(parents=True, exist_ok=True)
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    _use_broker("filesystem://", options)
    try:
        yield folder / "out"
    finally:
        _use_broker(*saved)


def _use_broker(url: str, options: dict[str, Any]) -> None:
    # kombu keeps process-wide connection and producer pools keyed by broker URL; closing only
    # the app's pool would leave a closed pool there for the next test publishing to that URL.
    kombu.pools.reset()
    # The pool attributes are Celery internals, untyped in its stubs.
    app: Any = celery_app
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.update(broker_url=url, broker_transport_options=options)
