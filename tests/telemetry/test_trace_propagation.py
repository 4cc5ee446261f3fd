"""A traced request's trace continues in the task it enqueues and shows the engine's stages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_run
from telemetry import tracing
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import write_wav
from tests.support.sentry import sentry_start, sentry_stop
from tests.support.servers import RecordingServer
from tests.support.workers import celery_worker

QUEUE = "telemetry-trace-propagation"
ENGINE_STAGES = {"decode", "rhythm", "tonal", "loudness", "structure", "store"}


@pytest.fixture
def untraced_sentry(recording_server: RecordingServer) -> Iterator[RecordingServer]:
    """Sentry posting to the recording server, tracing nothing on its own (rate 0)."""
    sentry_start(port=recording_server.port, traces_sample_rate=0.0)
    yield recording_server
    sentry_stop()


def _stage_spans(transaction: dict[str, Any]) -> list[dict[str, Any]]:
    return [span for span in transaction["spans"] if span["op"] == tracing.STAGE_OP]


@pytest.mark.slow
@pytest.mark.django_db
def test_a_traced_request_continues_in_the_worker_task_and_its_engine_stages(
    redis_url: str, untraced_sentry: RecordingServer, tmp_path: Path, settings: Any
) -> None:
    sentry_server = untraced_sentry
    settings.ROOT_URLCONF = "tests.telemetry.urls"
    wav = write_wav(tmp_path / "click.wav", click_track_with_chord(seconds=4.0))
    dsn = f"http://workerkey@127.0.0.1:{sentry_server.port}/44"
    caller = tracing.TraceParent.new_root(sampled=True)
    # Neither side traces on its own: only the caller's decision can make the task traced.
    with celery_worker(
        broker=redis_url,
        queue_name=QUEUE,
        pool="solo",
        SENTRY_DSN=dsn,
        SENTRY_TRACES_SAMPLE_RATE="0",
    ) as worker:
        worker.wait_for_line(lambda line: "ready" in str(line.get("message")))
        response = APIClient().post(
            "/api/v1/enqueue-stages/",
            {"broker": redis_url, "queue": QUEUE, "path": str(wav)},
            format="json",
            HTTP_TRACEPARENT=caller.to_w3c(),
        )
        assert response.status_code == 202
        worker.wait_for_line(lambda line: "succeeded in" in str(line.get("message")))
        sentry_server.wait_for(lambda s: bool(s.requests_to("/api/44/envelope/")), timeout=20)
    tracing.drain_transactions()
    sentry_sdk.flush(timeout=5)

    [request] = [
        t
        for t in sentry_server.sentry_items("transaction")
        if t["contexts"]["trace"]["op"] == "http.server"
    ]
    [task] = [
        payload
        for envelope in sentry_server.requests_to("/api/44/envelope/")
        for header, payload in envelope.envelope_items()
        if header.get("type") == "transaction"
    ]
    assert request["contexts"]["trace"]["trace_id"] == caller.trace_id
    assert request["contexts"]["trace"]["parent_span_id"] == caller.span_id
    assert task["transaction"] == "tests.monitoring.analyse_with_stage_spans"
    assert task["contexts"]["trace"]["trace_id"] == caller.trace_id
    assert task["contexts"]["trace"]["parent_span_id"] == request["contexts"]["trace"]["span_id"]
    stages = _stage_spans(task)
    assert {span["description"] for span in stages} >= ENGINE_STAGES
    assert {span["trace_id"] for span in stages} == {caller.trace_id}


@pytest.mark.django_db
def test_the_job_runner_reports_each_stage_as_a_span_of_the_running_trace(
    sentry_server: RecordingServer,
    api_client: APIClient,
    user: User,
    tmp_path: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    wav = write_wav(tmp_path / "chord.wav", click_track_with_chord(seconds=4.0))
    with wav.open("rb") as handle:
        upload = api_client.post(reverse("api:media-list"), {"file": handle}, format="multipart")
    give_credits(user)
    with django_capture_on_commit_callbacks(execute=False):
        started = api_client.post(
            reverse("api:analysis-list"), {"media": upload.json()["id"]}, format="json"
        )
    assert started.status_code == 202, started.content
    parent = tracing.TraceParent.new_root(sampled=True)

    with sentry_sdk.isolation_scope():
        run = tracing.start_traced(
            parent=parent, op="queue.task.celery", name="analysis_job_run", source="task"
        )
        with sentry_sdk.start_transaction(run):
            analysis_job_run(job_id=AnalysisJob.objects.get(public_id=started.json()["id"]).pk)
    sentry_sdk.flush(timeout=5)

    transactions = sentry_server.sentry_items("transaction")
    [transaction] = [t for t in transactions if t["transaction"] == "analysis_job_run"]
    assert transaction["contexts"]["trace"]["trace_id"] == parent.trace_id
    names = [span["description"] for span in _stage_spans(transaction)]
    assert set(names) >= ENGINE_STAGES | {"fetch"}
    assert names.index("decode") < names.index("rhythm") < names.index("store")
