"""A task's log lines carry the request id of the request that enqueued it, and its job id."""

from __future__ import annotations

import pytest

from core.logging import request_id_var
from tests.monitoring.tasks import log_context_probe
from tests.support.workers import celery_worker

QUEUE = "monitoring-correlated-logs"


@pytest.mark.slow
def test_worker_log_lines_carry_the_enqueuing_request_id_and_the_job_id(redis_url: str) -> None:
    with celery_worker(broker=redis_url, queue_name=QUEUE, pool="solo") as worker:
        token = request_id_var.set("req-correlate-0001")
        try:
            worker.send(log_context_probe, job_id="job-4242")
        finally:
            request_id_var.reset(token)
        line = worker.wait_for_line(lambda line: line.get("message") == "probe ran")

    assert line["request_id"] == "req-correlate-0001"
    assert line["job_id"] == "job-4242"
    assert line["logger"] == "tests.monitoring.tasks"
