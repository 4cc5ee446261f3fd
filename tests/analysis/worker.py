"""Real Celery worker processes for end-to-end tests, pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

READY_TIMEOUT_SECONDS = 60.0


class Worker:
    """`celery -A phonoglyph worker` in its own process group, logging to a file."""

    def __init__(
        self, name: str, log_dir: Path, env: dict[str, str], *, queues: str = "analysis,celery"
    ) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "phonoglyph",
                "worker",
                "-Q",
                queues,
                "--pool=prefork",
                "--concurrency=1",
                "-n",
                f"{name}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name} not ready:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no shutdown, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(*, media_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker sharing this test's database, broker and storage."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=url,
        MEDIA_ROOT=str(media_root),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def wait_for(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
