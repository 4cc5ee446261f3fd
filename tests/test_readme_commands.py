"""The README's commands work as written from a new shell in a checkout where scripts/run ran.

The checkout is a copy of the tracked tree; `scripts/local-env`, which scripts/run calls first,
writes its var/local.env. The shell's environment carries no DEBUG, SECRET_KEY or database
setting, as a person's new terminal would not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.analysis.audio import click_track_with_chord
from tests.support.audio import write_wav

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
# Test data, benchmarks and documents are not needed to run the commands and are large.
NOT_COPIED = ("tests/", "bench/", "docs/")


def _copy_checkout(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if name.startswith(NOT_COPIED) or not source.is_file() or source.is_symlink():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((REPO / ".venv").resolve())
    return target


def _fresh_shell(home: Path) -> dict[str, str]:
    return {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8"}


def _run(
    checkout: Path, env: dict[str, str], *command: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "manage.py", *command],
        cwd=checkout,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout after scripts/run's first steps: the env file and migrations."""
    home = tmp_path_factory.mktemp("home")
    checkout = _copy_checkout(tmp_path_factory.mktemp("checkout"))
    subprocess.run([str(checkout / "scripts" / "local-env")], cwd=checkout, check=True)
    migrated = _run(checkout, _fresh_shell(home), "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    return checkout


def test_the_local_env_file_holds_development_mode_and_a_generated_key(checkout: Path) -> None:
    lines = (checkout / "var" / "local.env").read_text().splitlines()
    assert "DEBUG=true" in lines
    key = next(line.removeprefix("SECRET_KEY=") for line in lines if line.startswith("SECRET_KEY="))
    assert len(key) >= 50
    assert (checkout / "var" / "local.env").stat().st_mode & 0o077 == 0


def test_a_second_run_keeps_the_key_it_wrote(checkout: Path) -> None:
    before = (checkout / "var" / "local.env").read_text()
    subprocess.run([str(checkout / "scripts" / "local-env")], cwd=checkout, check=True)
    assert (checkout / "var" / "local.env").read_text() == before


def test_the_readme_commands_work_from_a_new_shell(checkout: Path, tmp_path: Path) -> None:
    shell = _fresh_shell(tmp_path)
    assert not {"DEBUG", "SECRET_KEY", "DATABASE_URL"} & shell.keys()

    created = _run(
        checkout,
        shell,
        "createuser",
        "you@example.com",
        "--staff",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created user you@example.com" in created.stdout

    key = _run(checkout, shell, "createapikey", "you@example.com", "--name", "laptop")
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip().startswith("phg_")

    track = write_wav(tmp_path / "track.wav", click_track_with_chord(seconds=4.0))
    analysed = _run(checkout, shell, "analyze", str(track), "--features", "tempo", "--json")
    assert analysed.returncode == 0, analysed.stderr
    assert json.loads(analysed.stdout)["tempo"]["bpm"] == pytest.approx(120.0, abs=2.0)

    granted = _run(
        checkout,
        shell,
        "grant_credits",
        "you@example.com",
        "100",
        "--reason",
        "trying things out",
    )
    assert granted.returncode == 0, granted.stderr
    assert (checkout / "var" / "phonoglyph.sqlite3").is_file()


def test_a_variable_set_in_the_environment_wins_over_the_file(checkout: Path) -> None:
    shell = {**_fresh_shell(checkout), "DEBUG": "false"}
    refused = _run(checkout, shell, "check")
    assert refused.returncode != 0
    assert "ALLOWED_HOSTS" in refused.stderr
