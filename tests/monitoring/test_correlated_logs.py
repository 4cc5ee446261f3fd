"""A task's log lines carry the request id of the request that enqueued it, and its job id."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.conf import settings

from phonoglyph.celery import app
from phonoglyph.logging import request_id_var
from tests.monitoring.tasks import log_context_probe

QUEUE = "monitoring-correlated-logs"


def _json_lines(stream: Any, sink: queue.Queue[dict[str, Any]]) -> None:
    for line in stream:
        try:
            sink.put(json.loads(line))
        except ValueError:
            continue


@pytest.mark.slow
def test_worker_log_lines_carry_the_enqueuing_request_id_and_the_job_id(redis_url: str) -> None:
    broker = redis_url
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CELERY_BROKER_URL": broker,
        "SENTRY_DSN": "",
        "POSTHOG_API_KEY": "",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "phonoglyph",
            "worker",
            "-P",
            "solo",
            "-Q",
            QUEUE,
            "-I",
            "tests.monitoring.tasks",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=_json_lines, args=(worker.stdout, lines), daemon=True).start()
    token = request_id_var.set("req-correlate-0001")
    try:
        with app.connection_for_write(broker) as connection:
            log_context_probe.apply_async(
                kwargs={"job_id": "job-4242"},
                queue=QUEUE,
                connection=connection,  # type: ignore[call-arg]  # accepted via **options
            )
        found = None
        deadline = time.monotonic() + 60
        while found is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line.get("message") == "probe ran":
                found = line
    finally:
        request_id_var.reset(token)
        worker.terminate()
        worker.wait(timeout=30)
    assert found is not None, "the worker never logged the probe line"
    assert found["request_id"] == "req-correlate-0001"
    assert found["job_id"] == "job-4242"
    assert found["logger"] == "tests.monitoring.tasks"
