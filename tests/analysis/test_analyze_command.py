from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.analysis.audio import click_track_with_chord
from tests.support.audio import write_wav


def _error_lines(stderr: str) -> list[str]:
    # Essentia prints an INFO banner when it is imported; that is the engine's to silence.
    return [line for line in stderr.splitlines() if line.strip() and "[   INFO   ]" not in line]


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    # Without DATABASE_URL pointing anywhere usable: the command must not need a database.
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATABASE_URL": "sqlite:////nonexistent/db"}
    return subprocess.run(
        [sys.executable, "manage.py", "analyze", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("cli") / "clip.wav", click_track_with_chord())


def test_json_output_is_the_engine_result(clip: Path) -> None:
    run = _analyze(str(clip), "--features", "tempo,key", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["tempo"]["bpm"] == pytest.approx(120, rel=0.04)
    assert result["key"]["key"] == "C"
    assert "loudness" not in result


def test_default_output_is_a_short_human_summary(clip: Path) -> None:
    run = _analyze(str(clip))
    assert run.returncode == 0, run.stderr
    assert "BPM" in run.stdout
    assert "C major" in run.stdout
    assert "LUFS" in run.stdout


def test_a_missing_file_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    run = _analyze(str(tmp_path / "nope.wav"))
    assert run.returncode == 2
    assert run.stdout == ""
    lines = _error_lines(run.stderr)
    assert len(lines) == 1
    assert "no such file" in lines[0]


def test_an_undecodable_file_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"ID3" + bytes(range(256)) * 40)
    run = _analyze(str(garbage))
    assert run.returncode == 2
    lines = _error_lines(run.stderr)
    assert len(lines) == 1, run.stderr
    assert str(garbage) in lines[0]


def test_an_unknown_feature_exits_2_listing_the_allowed_ones(clip: Path) -> None:
    run = _analyze(str(clip), "--features", "tempo,vibe")
    assert run.returncode == 2
    assert "vibe" in run.stderr
    assert "waveform" in run.stderr
