"""The quickstart's Python blocks run, in order, against a live server, as a reader runs them.

The server is real (a live HTTP server on loopback, the app's own settings); published tasks
run in-process as a worker would, so the analysis runs and the webhook arrives.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.services import api_key_create
from phonoglyph.celery import app as celery_app
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import write_wav

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "api-quickstart.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def test_the_quickstart_has_python_blocks_for_every_step():
    blocks = PYTHON_BLOCK.findall(QUICKSTART.read_text())
    source = "\n".join(blocks)
    assert len(blocks) >= 5
    for step in ("/api/v1/media/", "/api/v1/analyses/", "/api/v1/webhooks/", "Retry-After"):
        assert step in source
    assert "audio-analysis" in source
    assert "Webhook(" in source


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.mark.slow
@pytest.mark.usefixtures("eager_tasks")
def test_the_quickstart_runs_against_a_live_server(
    live_server, transactional_db, user, settings, tmp_path, monkeypatch, capsys
):
    settings.PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.PHONOGLYPH_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CLAMAV_URL = ""
    give_credits(user, 100)
    audio = write_wav(tmp_path / "song.wav", click_track_with_chord(seconds=6.0))
    monkeypatch.setenv("PHONOGLYPH_URL", live_server.url)
    monkeypatch.setenv("PHONOGLYPH_API_KEY", api_key_create(user=user, name="quickstart").raw)
    monkeypatch.setenv("PHONOGLYPH_AUDIO", str(audio))

    namespace: dict[str, object] = {"__name__": "quickstart"}
    for number, block in enumerate(PYTHON_BLOCK.findall(QUICKSTART.read_text()), start=1):
        code = compile(block, f"{QUICKSTART.name} block {number}", "exec")
        exec(code, namespace)  # noqa: S102 (the documentation's own code, run as a reader would)

    printed = capsys.readouterr().out
    assert "analysis.succeeded" in printed
    assert "track tempo" in printed
