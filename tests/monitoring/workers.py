"""Start a real Celery worker process for the monitoring tests and read its JSON log lines."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from celery import Task
from django.conf import settings

from phonoglyph.celery import app

LogLine = dict[str, Any]


def _read_json_lines(stream: IO[str], sink: queue.Queue[LogLine]) -> None:
    for line in stream:
        try:
            sink.put(json.loads(line))
        except ValueError:
            continue


class Worker:
    def __init__(self, process: subprocess.Popen[str], *, broker: str, queue_name: str) -> None:
        self.process = process
        self.broker = broker
        self.queue_name = queue_name
        self.lines: queue.Queue[LogLine] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(
            target=_read_json_lines, args=(process.stdout, self.lines), daemon=True
        ).start()

    def wait_for_line(self, predicate: Callable[[LogLine], bool], timeout: float = 60) -> LogLine:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if predicate(line):
                return line
        raise AssertionError("the worker never logged the expected line")

    def send(self, task: Task[Any, Any], **kwargs: Any) -> None:
        """Publish `task` with `kwargs` to this worker's queue, from the calling process."""
        with app.connection_for_write(self.broker) as connection:
            task.apply_async(
                kwargs=kwargs,
                queue=self.queue_name,
                connection=connection,  # type: ignore[call-arg]  # accepted via **options
            )


@contextmanager
def celery_worker(*, broker: str, queue_name: str, pool: str, **env: str) -> Iterator[Worker]:
    """Run `celery worker` on `queue_name` with the test tasks; stop it with SIGTERM after."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "phonoglyph", "worker",
            "-P", pool, "-c", "1", "-Q", queue_name, "-I", "tests.monitoring.tasks",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
        ],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "CELERY_BROKER_URL": broker,
            "SENTRY_DSN": "",
            "POSTHOG_API_KEY": "",
            "PYTHONUNBUFFERED": "1",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        yield Worker(process, broker=broker, queue_name=queue_name)
    finally:
        process.terminate()
        process.wait(timeout=60)
