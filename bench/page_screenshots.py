"""docs/screenshots/: the results page mid-playback, in the light and the dark colour scheme.

Uses the scratch set-up of bench.page_budget (a 2-minute track with a result of real shape).
Usage: .venv/bin/python -m bench.page_screenshots
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.test import Client
from django.test.testcases import LiveServerThread
from playwright.sync_api import sync_playwright

from bench.page_budget import CHROMIUM, _job
from tests.factories import UserFactory

OUT = Path("docs/screenshots")


def main() -> None:
    call_command("migrate", verbosity=0)
    user = UserFactory.create()
    job = _job(user, 120)
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    base = f"http://127.0.0.1:{server.port}"
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        for scheme in ("light", "dark"):
            context = browser.new_context(
                viewport={"width": 1280, "height": 1500}, color_scheme=scheme
            )
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
            )
            page = context.new_page()
            page.goto(f"{base}/analyses/{job.public_id}/")
            page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready")
            page.locator("#analysis-panes").focus()
            page.keyboard.press("Space")
            page.get_by_role("button", name="Visualizer preview").click()
            page.wait_for_timeout(4000)
            page.screenshot(path=str(OUT / f"results-{scheme}.png"), full_page=True)
            context.close()
        browser.close()
    server.terminate()


if __name__ == "__main__":
    main()
