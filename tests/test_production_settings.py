"""With DEBUG=false the app refuses to start on insecure settings, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STRONG_KEY = "q8Xw!v2#Lr7pZ0c$Nf4@Hk9^Tb6&Jm1*Ys3%Ud5(Ge8)Ra0_Wi2+Ko7=Pl4"


def _check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "SECURE_SSL_REDIRECT",
        }
    }
    env.update({"DJANGO_SETTINGS_MODULE": "phonoglyph.settings", "DEBUG": "false"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "secret_key",
    ["", "changeme", "django-insecure-phonoglyph-development-only", "short-key"],
    ids=["missing", "known-default", "development-key", "short"],
)
def test_production_start_up_refuses_an_insecure_secret_key(secret_key: str) -> None:
    result = _check({"SECRET_KEY": secret_key, "ALLOWED_HOSTS": "example.com"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]


def test_production_start_up_refuses_empty_allowed_hosts() -> None:
    result = _check({"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr.strip().splitlines()[0]


def test_check_deploy_reports_no_warnings_in_a_production_like_environment() -> None:
    result = _check(
        {"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "phonoglyph.example.com"},
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
