"""A Celery worker serves its task metrics when PHONOGLYPH_WORKER_METRICS_PORT is set."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.monitoring.tasks import log_context_probe
from tests.support.workers import celery_worker

QUEUE = "monitoring-worker-metrics"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_worker_serves_task_counts_and_durations(redis_url: str) -> None:
    port = _free_port()
    with celery_worker(
        broker=redis_url,
        queue_name=QUEUE,
        pool="solo",
        PHONOGLYPH_WORKER_METRICS_PORT=str(port),
    ) as worker:
        worker.send(log_context_probe, job_id="job-metrics-1")
        worker.wait_for_line(lambda line: "succeeded in" in str(line.get("message")))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()

    task = "tests.monitoring.log_context_probe"
    assert f'phonoglyph_celery_tasks_total{{outcome="succeeded",task="{task}"}} 1.0' in text
    assert f'phonoglyph_celery_task_duration_seconds_count{{task="{task}"}} 1.0' in text
