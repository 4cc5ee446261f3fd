"""Traced requests' transactions are built and sent by the relay process, never at the cost of
the worker: a stalled relay drops and counts, a dead one is replaced by sending in process, and a
worker's death leaves no relay behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create
from telemetry import trace_relay, tracing
from tests.support.servers import RecordingServer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _api_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    return client


def _record(url: str = "http://testserver/api/v1/me/") -> tracing.TraceRecord:
    trace = tracing.RequestTrace(None, None)
    trace.end(
        name="/api/v1/me/", status=200, route="api:me", request_id="r1", url=url, method="GET"
    )
    return trace.record()


def _relay_pid() -> int:
    pid = trace_relay.relay_process_id()
    assert pid is not None, "no relay is running"
    return pid


def _has_ended(pid: int) -> bool:
    """Gone, or a zombie waiting to be reaped whose every thread has exited.

    A killed process's main thread turns zombie while its other threads may still be exiting,
    holding the files they share (the pipe's end among them).
    """
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    return state in {"Z", "X"} and threads == [str(pid)]


@pytest.fixture
def frozen_relay(sentry_server: RecordingServer) -> Iterator[int]:
    """A running relay, stopped with SIGSTOP: it reads nothing until the test lets it go."""
    assert trace_relay.submit(_record())
    pid = _relay_pid()
    sentry_server.wait_for(lambda server: len(server.sentry_items("transaction")) == 1)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def test_the_transaction_of_a_traced_request_is_sent_by_the_relay_with_its_context(
    sentry_server: RecordingServer, user: User
) -> None:
    client = _api_client(user)

    response = client.get("/api/v1/me/", HTTP_X_REQUEST_ID="relay-check-1")

    assert response.status_code == 200
    sentry_server.wait_for(lambda server: bool(server.sentry_items("transaction")))
    [transaction] = sentry_server.sentry_items("transaction")
    assert transaction["transaction"] == "/api/v1/me/"
    assert transaction["contexts"]["trace"]["op"] == "http.server"
    assert transaction["contexts"]["trace"]["status"] == "ok"
    assert transaction["tags"]["route"] == "api:me"
    assert transaction["tags"]["request_id"] == response["X-Request-ID"]
    assert transaction["request"] == {"url": "http://testserver/api/v1/me/", "method": "GET"}

    # Held by the relay while it is stopped, then sent by it: the worker did not send it.
    relay = _relay_pid()
    os.kill(relay, signal.SIGSTOP)
    try:
        client.get("/api/v1/me/")
        time.sleep(1.0)
        assert len(sentry_server.sentry_items("transaction")) == 1
    finally:
        os.kill(relay, signal.SIGCONT)
    sentry_server.wait_for(lambda server: len(server.sentry_items("transaction")) == 2)


def test_a_stalled_relay_never_holds_up_the_worker_and_its_drops_are_counted(
    frozen_relay: int,
) -> None:
    dropped_before = REGISTRY.get_sample_value(
        "phonoglyph_traces_dropped_total", {"reason": "relay_behind"}
    )
    record = _record()

    def flood() -> None:
        # Far more than the pipe holds: a blocking write would never return.
        for _ in range(20_000):
            trace_relay.submit(record)

    flooding = threading.Thread(target=flood, daemon=True)
    flooding.start()
    flooding.join(timeout=30)

    assert not flooding.is_alive(), "submitting to a stalled relay blocked"
    dropped = REGISTRY.get_sample_value(
        "phonoglyph_traces_dropped_total", {"reason": "relay_behind"}
    )
    assert (dropped or 0) > (dropped_before or 0)


def test_with_the_relay_dead_the_worker_sends_its_transactions_itself(
    sentry_server: RecordingServer, user: User
) -> None:
    client = _api_client(user)
    client.get("/api/v1/me/")
    sentry_server.wait_for(lambda server: len(server.sentry_items("transaction")) == 1)
    relay = _relay_pid()
    os.kill(relay, signal.SIGKILL)
    while not _has_ended(relay):
        time.sleep(0.01)

    client.get("/api/v1/api-keys/")
    client.get("/api/v1/me/")

    sentry_server.wait_for(lambda server: len(server.sentry_items("transaction")) == 3)
    names = [item["transaction"] for item in sentry_server.sentry_items("transaction")]
    assert names[1:] == ["/api/v1/api-keys/", "/api/v1/me/"]


def test_the_relay_scrubs_secrets_as_the_worker_would(sentry_server: RecordingServer) -> None:
    assert trace_relay.submit(_record(url="http://testserver/api/v1/phg_abcdefghijklmnop/"))

    sentry_server.wait_for(lambda server: bool(server.sentry_items("transaction")))
    [transaction] = sentry_server.sentry_items("transaction")
    assert "phg_abcdefghijklmnop" not in json.dumps(transaction)
    assert transaction["request"]["url"] == "http://testserver/api/v1/phg_[Filtered]/"


def test_a_worker_killed_outright_has_its_traces_sent_and_leaves_no_relay_behind(
    recording_server: RecordingServer,
) -> None:
    worker = textwrap.dedent(
        f"""
        import os, sys
        import sentry_sdk
        from telemetry import trace_relay, tracing
        sentry_sdk.init(dsn="http://publickey@127.0.0.1:{recording_server.port}/42")
        for name in ("/one/", "/two/"):
            trace = tracing.RequestTrace(None, None)
            trace.end(name=name, status=200, route=None, request_id=None, url="", method="GET")
            assert trace_relay.submit(trace.record())
        print(trace_relay.relay_process_id(), flush=True)
        os.kill(os.getpid(), 9)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", worker],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == -signal.SIGKILL, completed.stderr
    relay = int(completed.stdout)
    recording_server.wait_for(lambda server: len(server.sentry_items("transaction")) == 2)
    names = sorted(item["transaction"] for item in recording_server.sentry_items("transaction"))
    assert names == ["/one/", "/two/"]
    deadline = time.monotonic() + 10
    while not _has_ended(relay) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _has_ended(relay)
