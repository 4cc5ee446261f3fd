"""A web process serves probes, pages and the API without loading the audio engine's Essentia.

The check reads the memory map of a real gunicorn worker: a loaded Python extension module
shows there as its mapped shared object, whatever the process did to its module table.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

STARTUP_TIMEOUT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _mapped_files(pid: int) -> set[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if len(line.split()) >= 6}


def _loads_essentia(pid: int) -> bool:
    return any("essentia" in Path(path).name for path in _mapped_files(pid))


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _get(url: str) -> int:
    # Loopback URL built by this test; no user input reaches it.
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return int(response.status)


@pytest.fixture
def gunicorn_worker(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """Start the production web command with one worker; yield its pid and base URL."""
    port = _free_port()
    database = tmp_path / "web.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "DEBUG": "false",
        "SECRET_KEY": "web-process-test-" + "k3y-" * 12,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    master = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "phonoglyph.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                if master.poll() is not None or time.monotonic() > deadline:
                    _, errors = master.communicate(timeout=5)
                    pytest.fail(f"gunicorn did not start:\n{errors}")
                time.sleep(0.2)
        (worker,) = _children(master.pid)
        yield worker, base
    finally:
        master.send_signal(signal.SIGTERM)
        master.communicate(timeout=30)


def test_a_web_worker_answers_probes_pages_and_the_api_without_loading_essentia(
    gunicorn_worker: tuple[int, str],
) -> None:
    worker, base = gunicorn_worker
    assert _get(f"{base}/healthz") == 200
    assert _get(f"{base}/") == 200
    assert _get(f"{base}/account/login/") == 200
    assert _get(f"{base}/api/v1/schema/") == 200
    assert not _loads_essentia(worker)


def test_a_process_that_runs_the_engine_shows_essentia_in_its_memory_map() -> None:
    code = "import os, engine.pipeline, sys; sys.stdout.write(open('/proc/self/maps').read())"
    # Runs this interpreter on a constant snippet.
    maps = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(
        "essentia" in Path(line.split()[-1]).name for line in maps.splitlines() if "/" in line
    )
