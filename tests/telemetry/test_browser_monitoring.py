"""Pages load the vendored browser SDKs and their configuration only when configured."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from accounts.models import User
from telemetry.context_processors import browser_connect_origins

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def _scripts(html: str) -> list[tuple[str, str]]:
    return SCRIPT_TAG.findall(html)


def test_pages_carry_no_monitoring_when_nothing_is_configured(client: Client) -> None:
    html = client.get("/").content.decode()

    assert 'id="monitoring-config"' not in html
    assert "vendor/" not in html
    assert "monitoring-init.js" not in html


def test_configured_pages_load_vendored_sdks_with_a_json_config_block(
    settings: Any, client: Client, user: User
) -> None:
    settings.SENTRY_BROWSER_DSN = "https://browserkey@o1.ingest.sentry.io/7"
    settings.POSTHOG_API_KEY = "phc_browserproject"
    settings.POSTHOG_HOST = "https://eu.i.posthog.com"
    client.force_login(user)

    html = client.get("/").content.decode()

    scripts = _scripts(html)
    sources = [re.search(r'src="([^"]+)"', attrs) for attrs, _ in scripts]
    assert [s.group(1) for s in sources if s] == [
        "/static/vendor/sentry-browser.min.js",
        "/static/vendor/posthog.min.js",
        "/static/js/monitoring-init.js",
        # The site's own behaviour (menu, theme toggle, copy buttons), loaded on every page.
        "/static/js/site.js",
        # The header's unread count, on every page of a signed-in user.
        "/static/js/notifications.js",
    ]
    # CSP: every script is either a file or a JSON data block, never inline code.
    inline = [(attrs, body) for attrs, body in scripts if "src=" not in attrs]
    assert len(inline) == 1
    assert 'type="application/json"' in inline[0][0]
    config = json.loads(inline[0][1])
    assert config["userId"] == str(user.pk)
    assert config["sentry"]["dsn"] == "https://browserkey@o1.ingest.sentry.io/7"
    assert config["posthog"] == {"apiKey": "phc_browserproject", "host": "https://eu.i.posthog.com"}
    assert user.email not in inline[0][1]


def test_vendored_sdks_and_their_licences_are_in_the_static_files() -> None:
    vendor = django_settings.BASE_DIR / "static" / "vendor"
    for name in ("sentry-browser.min.js", "posthog.min.js"):
        assert (vendor / name).stat().st_size > 10_000
    assert "MIT License" in (vendor / "sentry-browser.LICENSE").read_text()
    assert "Apache License" in (vendor / "posthog.LICENSE").read_text()


def test_the_csp_connect_origins_are_the_sdk_hosts_without_credentials() -> None:
    assert browser_connect_origins(
        sentry_dsn="https://browserkey@o1.ingest.sentry.io/7",
        posthog_host="https://eu.i.posthog.com",
    ) == ["https://o1.ingest.sentry.io", "https://eu.i.posthog.com"]
    assert browser_connect_origins(sentry_dsn="", posthog_host="http://127.0.0.1:8001") == [
        "http://127.0.0.1:8001"
    ]
