"""A real prefork worker reports task errors to Sentry (the loopback DSN host) on its own."""

from __future__ import annotations

import pytest

from tests.monitoring.tasks import separate_stems_and_crash
from tests.support.servers import RecordingServer
from tests.support.workers import celery_worker

QUEUE = "monitoring-worker-sentry"


@pytest.mark.slow
def test_prefork_worker_sends_task_errors_with_context_by_the_time_its_child_exits(
    redis_url: str, recording_server: RecordingServer
) -> None:
    dsn = f"http://workerkey@127.0.0.1:{recording_server.port}/43"
    with celery_worker(
        broker=redis_url, queue_name=QUEUE, pool="prefork", SENTRY_DSN=dsn
    ) as worker:
        worker.wait_for_line(lambda line: "ready" in str(line.get("message")))
        worker.send(separate_stems_and_crash, job_id="job-stems-9")
        worker.wait_for_line(lambda line: "raised unexpected" in str(line.get("message")))
    # The worker has exited: whatever its child queued must have been flushed by now.

    events = [e for e in recording_server.sentry_events() if e.get("exception")]
    assert events, "no Sentry event arrived from the worker"
    tagged = [e for e in events if e["tags"].get("operation") == "stem_separation.run"]
    assert tagged
    event = tagged[0]
    assert event["exception"]["values"][-1]["type"] == "StemModelCrashed"
    assert event["contexts"]["audio_processing"]["job_id"] == "job-stems-9"
    assert recording_server.requests_to("/api/43/envelope/")
