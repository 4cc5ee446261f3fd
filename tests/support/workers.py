"""Start a real Celery worker process for a test: the one way every test does it.

A worker is `celery -A phonoglyph worker` under the test settings, in its own process group,
with one pool process, the broker given (the test process's own by default) and every
test-only task module (`tests/<area>/tasks.py`) imported, so a test need not say which it uses.
Its output goes to a log file: `output()` reads it whole, `wait_for_line()` reads its JSON lines
in order, and stopping the worker writes the log to stdout, which pytest shows only for a test
that failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from celery import Task
from django.conf import settings
from django.db import connection

from phonoglyph.celery import app

READY_TIMEOUT_SECONDS = 60.0
# Long enough for a prefork child to finish its task and flush what it queued for Sentry.
STOP_TIMEOUT_SECONDS = 60.0

LogLine = dict[str, Any]


def task_modules_of_tests() -> list[str]:
    """The test-only task modules, `tests/<area>/tasks.py`, as module names."""
    tests = Path(settings.BASE_DIR) / "tests"
    return sorted(f"tests.{path.parent.name}.tasks" for path in tests.glob("*/tasks.py"))


def shared_database_url() -> str:
    """The URL of the database this test runs on, for a worker that must share it.

    Raises AssertionError on SQLite: its test database lives in this process only.
    """
    database = connection.settings_dict
    assert connection.vendor == "postgresql", "a worker can share only a PostgreSQL database"
    return (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


class Worker:
    """A running worker: read its log, send it tasks, stop or kill it."""

    def __init__(
        self, *, name: str, process: subprocess.Popen[bytes], log: Path, broker: str, queue: str
    ) -> None:
        self.name = name
        self.process = process
        self.log = log
        self.broker = broker
        self.queue = queue
        self._lines_examined = 0
        self._log_shown = False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name} not ready:\n{self.output()}")

    def _json_lines(self) -> list[LogLine]:
        text = self.output()
        # A line still being written has no newline yet: leave it for the next read.
        complete = text[: text.rfind("\n") + 1]
        lines: list[LogLine] = []
        for raw in complete.splitlines():
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                lines.append(value)
        return lines

    def wait_for_line(self, predicate: Callable[[LogLine], bool], timeout: float = 60) -> LogLine:
        """Return the first JSON log line after those already examined that `predicate` accepts.

        Lines examined and refused are not seen again by the next call.
        """
        deadline = time.monotonic() + timeout
        while True:
            exited = self.process.poll() is not None
            lines = self._json_lines()
            while self._lines_examined < len(lines):
                line = lines[self._lines_examined]
                self._lines_examined += 1
                if predicate(line):
                    return line
            if exited or time.monotonic() > deadline:
                state = "exited" if exited else f"ran {timeout} s"
                raise AssertionError(
                    f"worker {self.name} {state} without logging the expected line:\n"
                    f"{self.output()}"
                )
            time.sleep(0.1)

    def send(self, task: Task[Any, Any], **kwargs: Any) -> None:
        """Publish `task` with `kwargs` to this worker's queue, from the calling process."""
        with app.connection_for_write(self.broker) as broker_connection:
            task.apply_async(
                kwargs=kwargs,
                queue=self.queue,
                connection=broker_connection,  # type: ignore[call-arg]  # accepted via **options
            )

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no shutdown, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Shut the worker down warmly (SIGTERM), kill it if it lingers, then show its log."""
        if self.process.poll() is None:
            # To the main process only: it stops its children itself, letting them flush.
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self._log_shown:
            self._log_shown = True
            sys.stdout.write(f"--- worker {self.name} ---\n{self.output()}\n")


def worker_start(
    *,
    queue_name: str,
    log_dir: Path,
    also_queues: Sequence[str] = (),
    pool: str = "solo",
    name: str | None = None,
    broker: str | None = None,
    database: bool = False,
    **env: str,
) -> Worker:
    """Start a worker on `queue_name` (and `also_queues`) and wait until it is ready.

    `send` publishes to `queue_name`. `broker` defaults to the one this test process publishes
    to; `database=True` points the worker at this test's PostgreSQL database; `env` adds or
    overrides environment variables (settings) of the worker. The caller stops the worker.
    Raises AssertionError, the worker's log attached, if it exits or is not ready in time.
    """
    name = name or f"{queue_name}-{os.getpid()}"
    broker = broker or settings.CELERY_BROKER_URL
    handle, log_name = tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=log_dir)
    os.close(handle)
    log = Path(log_name)
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CELERY_BROKER_URL": broker,
        "SENTRY_DSN": "",
        "POSTHOG_API_KEY": "",
        "PYTHONUNBUFFERED": "1",
    }
    if database:
        worker_env["DATABASE_URL"] = shared_database_url()
    worker_env.update(env)
    command = [
        *[sys.executable, "-m", "celery", "-A", "phonoglyph", "worker"],
        *["-Q", ",".join([queue_name, *also_queues]), "-n", f"{name}@%h"],
        *["--pool", pool, "--concurrency", "1", "--loglevel", "INFO"],
        *["--without-mingle", "--without-gossip", "--without-heartbeat"],
    ]
    modules = task_modules_of_tests()
    if modules:
        command.append("--include=" + ",".join(modules))
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=worker_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(name=name, process=process, log=log, broker=broker, queue=queue_name)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


@contextmanager
def celery_worker(
    *, queue_name: str, log_dir: Path | None = None, **options: Any
) -> Iterator[Worker]:
    """A ready worker for the `with` block (see `worker_start`), stopped at its end."""
    with tempfile.TemporaryDirectory(prefix="celery-worker-") as scratch:
        worker = worker_start(queue_name=queue_name, log_dir=log_dir or Path(scratch), **options)
        try:
            yield worker
        finally:
            worker.stop()


def wait_for(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll `check` until it returns something true, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def local_storage_worker(
    *, name: str, queue_name: str, log_dir: Path, redis_url: str, also_queues: Sequence[str] = ()
) -> Iterator[Worker]:
    """A worker on this test's database and local media folder, on a broker emptied before
    and after, so no task of another test reaches it and none of its own outlives it."""
    redis.Redis.from_url(redis_url).flushdb()
    started = worker_start(
        name=name,
        queue_name=queue_name,
        also_queues=also_queues,
        log_dir=log_dir,
        database=True,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        AWS_STORAGE_BUCKET_NAME="",
    )
    try:
        yield started
    finally:
        started.stop()
        redis.Redis.from_url(redis_url).flushdb()
