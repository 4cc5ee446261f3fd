"""`manage.py separate`: a local file to four FLAC stems, with no database or worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.stems.conftest import mix_wav


def _separate(*args: str) -> subprocess.CompletedProcess[str]:
    # Without a usable DATABASE_URL: the command must not need a database.
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATABASE_URL": "sqlite:////nonexistent/db"}
    return subprocess.run(
        [sys.executable, "manage.py", "separate", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_it_writes_four_flac_stems_and_prints_their_paths(tmp_path: Path) -> None:
    source = tmp_path / "mix.wav"
    source.write_bytes(mix_wav(3.0))
    run = _separate(str(source), "--out", str(tmp_path / "stems"))
    assert run.returncode == 0, run.stderr
    names = ("vocals", "drums", "bass", "other")
    assert run.stdout.split() == [str(tmp_path / "stems" / f"{name}.flac") for name in names]
    for name in names:
        assert (tmp_path / "stems" / f"{name}.flac").read_bytes()[:4] == b"fLaC"


def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 20)
    for path in (text, tmp_path / "missing.wav"):
        run = _separate(str(path), "--out", str(tmp_path / "out"))
        assert run.returncode == 2
        assert run.stdout == ""
        assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1
    assert not (tmp_path / "out").exists()
