"""Sentry is on exactly when SENTRY_DSN is set, with the product's release and sample rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from django.conf import settings

from telemetry.scrubbing import scrub_value
from telemetry.sentry import git_sha, release_name

PROBE = """
import json, django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(json.dumps({
    "active": client.is_active(),
    "release": client.options.get("release"),
    "environment": client.options.get("environment"),
    "traces_sample_rate": client.options.get("traces_sample_rate"),
    "integrations": sorted(client.integrations),
}))
"""


def _probe(**env: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_sentry_starts_with_settings_when_a_dsn_is_set_and_not_otherwise() -> None:
    on = _probe(SENTRY_DSN="http://key@127.0.0.1:9/1", SENTRY_ENVIRONMENT="staging")
    off = _probe(SENTRY_DSN="")

    assert on["active"] is True
    assert on["environment"] == "staging"
    assert on["traces_sample_rate"] == 0.1
    assert {"celery", "logging", "phonoglyph_context"} <= set(on["integrations"])
    # Per-request work is the request monitor's, paid only by traced requests and sent events.
    assert "django" not in on["integrations"]
    assert str(on["release"]).startswith("phonoglyph@")
    assert off["active"] is False


def test_release_names_the_version_and_the_commit_when_known() -> None:
    sha = git_sha(settings.BASE_DIR)
    name = release_name("", settings.BASE_DIR)

    assert name.startswith("phonoglyph@0.")
    if sha is not None:
        assert name.endswith(f"+{sha}")
    assert release_name("phonoglyph@2.0.0", settings.BASE_DIR) == "phonoglyph@2.0.0"


def test_secret_values_are_scrubbed_wherever_they_appear() -> None:
    url = (
        "https://bucket.s3.amazonaws.com/a.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=abcdef0123"
    )
    assert "AKIAEXAMPLE" not in scrub_value(url)
    assert "abcdef0123" not in scrub_value(url)
    assert scrub_value("key phg_AbCdEf0123456789xyz failed") == "key phg_[Filtered] failed"
    assert scrub_value("Authorization: Bearer sk-live-123") == "Authorization: Bearer [Filtered]"
    assert scrub_value("a plain message") == "a plain message"
