"""Latency overhead of monitoring on API calls: everything on versus everything off.

"On" is Sentry tracing at `--traces-sample-rate` (production's default is 0.1, which the target
is about; 1.0 is reported for reference) posting to a loopback sink, PostHog posting to a
loopback sink, the request monitor and its Prometheus histogram; the sink is a separate
process speaking HTTP/1.1 with keep-alive, as the real hosts do (`bench/_sink.py`). "Off" is no
Sentry client, no PostHog key and no request-monitoring middleware. Three modes in between add
one component at a time (see MODES), so the cost of each is printed too. All run in this one
process against the same endpoints (a list and a detail), through Django's WSGI handler called
in-process (the production entry point), so the numbers compare the application code path
without network noise; the modes alternate every few requests (see Monitoring for why).

Both the wall time and the request thread's CPU time are reported: on a shared machine the CPU
time is the steadier measure of the work monitoring adds to a request (the SDKs' own sending
threads are not counted, as they do not delay the response). The trace relay, the process that
builds and sends traced requests' transactions, is reported apart: its CPU is spent outside
the worker.

Last, it measures the floor the Sentry SDK itself sets: one bare trace with no spans and one with
as many spans as the detail endpoint records, with no integrations and a transport that discards,
as a share of the detail endpoint's p50, in both of the SDK's trace lifecycles (a transaction
event serialised in the request thread, or spans streamed by a background batcher). No
configuration of Phonoglyph can make 100 % tracing cost less than that.

Usage: .venv/bin/python bench/monitoring_overhead.py [--rounds 200] [--requests 10]
       [--traces-sample-rate 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_workdir = tempfile.mkdtemp(prefix="phonoglyph-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{_workdir}/bench.sqlite3"
# Closing each response (as a WSGI server does) must not reconnect to the database each time:
# production keeps its connections in a pool.
os.environ["DATABASE_CONN_MAX_AGE"] = "600"
os.environ["SENTRY_DSN"] = ""
os.environ["POSTHOG_API_KEY"] = ""

import django  # noqa: E402

django.setup()

import sentry_sdk  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from sentry_sdk.envelope import Envelope  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

from accounts.services import api_key_create, user_create  # noqa: E402
from bench._sink import SinkProcess  # noqa: E402
from telemetry import analytics, trace_relay  # noqa: E402
from telemetry.sentry import sentry_init  # noqa: E402
from telemetry.tracing import drain_transactions  # noqa: E402

MONITORING_MIDDLEWARE = "telemetry.middleware.RequestMonitoringMiddleware"
# Spans Sentry records for GET /api/v1/me/: authentication, connect, the key query, rendering.
DETAIL_SPANS = 4


# Modes from nothing to everything, each adding one component to the one before; "on" is the
# configuration the target is about.
MODES = ("off", "monitor", "+posthog", "+sentry 0%", "on")


class Monitoring:
    """Every monitoring component started once, switched between modes between blocks of requests.

    Switching is cheap (a Sentry client is swapped on the global scope, the PostHog key is set or
    cleared, one of two prebuilt handlers is picked), so the modes can alternate every few
    requests: this machine's speed drifts over seconds by far more than monitoring costs, and
    only a fine alternation cancels that drift out.
    """

    def __init__(self, port: int, traces_sample_rate: float) -> None:
        self.sentry_clients: dict[str, Any] = {}
        for mode, rate in (("+sentry 0%", 0.0), ("on", traces_sample_rate)):
            sentry_init(
                dsn=f"http://bench@127.0.0.1:{port}/1",
                environment="bench",
                release="bench",
                traces_sample_rate=rate,
                base_dir=settings.BASE_DIR,
            )
            self.sentry_clients[mode] = sentry_sdk.get_client()
        settings.POSTHOG_HOST = f"http://127.0.0.1:{port}"
        self.handler_on = WSGIHandler()
        without_monitor = [m for m in settings.MIDDLEWARE if m != MONITORING_MIDDLEWARE]
        with override_settings(MIDDLEWARE=without_monitor):
            self.handler_off = WSGIHandler()

    def use(self, mode: str) -> WSGIHandler:
        """Switch to `mode` and return the handler that serves it."""
        # Traced requests' transactions go to the relay process, which keeps sending with its
        # own client whatever this process switches to.
        sentry_sdk.get_global_scope().set_client(self.sentry_clients.get(mode))
        settings.POSTHOG_API_KEY = "phc_bench" if mode in ("+posthog", "+sentry 0%", "on") else ""
        return self.handler_off if mode == "off" else self.handler_on

    def relay_cpu_seconds(self) -> float:
        """CPU the trace relay process has spent so far (user and system)."""
        pid = trace_relay.relay_process_id()
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        drain_transactions()
        for client in self.sentry_clients.values():
            client.flush(timeout=5)
            client.close()
        sentry_sdk.get_global_scope().set_client(None)
        analytics.shutdown()
        settings.POSTHOG_API_KEY = ""


Samples = dict[str, list[float]]


def timed(handler: WSGIHandler, path: str, auth: str, count: int) -> Samples:
    """Wall time and this thread's CPU time of `count` requests, in seconds.

    A request lasts until its body is complete, which is when the client has it. Then the
    response is closed, as a WSGI server does once the body is written; that work delays no
    client but keeps the worker busy, so its CPU time is kept apart ("after").
    """
    factory = RequestFactory()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    samples: Samples = {"wall": [], "cpu": [], "after": []}
    for _ in range(count):
        environ = factory.get(path, HTTP_AUTHORIZATION=auth).environ
        wall, cpu = time.perf_counter(), time.thread_time()
        response = handler(environ, start_response)
        body = b"".join(response)
        samples["cpu"].append(time.thread_time() - cpu)
        samples["wall"].append(time.perf_counter() - wall)
        closing = time.thread_time()
        response.close()
        samples["after"].append(time.thread_time() - closing)
        assert statuses[-1].startswith("200"), body
    return samples


class DiscardingTransport(Transport):
    def capture_envelope(self, envelope: Envelope) -> None:
        return


def sdk_transaction_floor(
    spans: int, lifecycle: Literal["static", "stream"], count: int = 2000
) -> float:
    """CPU seconds of one bare Sentry trace with `spans` child spans, sent nowhere.

    `lifecycle` is the SDK's `trace_lifecycle`: "static" sends the finished trace as one
    transaction event, serialised in the request thread, as Phonoglyph does; "stream" hands each
    span to a background batcher that serialises and sends them.
    """
    sentry_sdk.init(
        dsn="http://bench@127.0.0.1:9/1",
        traces_sample_rate=1.0,
        default_integrations=False,
        transport=DiscardingTransport,
        trace_lifecycle=lifecycle,
    )

    def static_trace() -> None:
        with (
            sentry_sdk.isolation_scope(),
            sentry_sdk.start_transaction(op="http.server", name="/api/v1/me/"),
        ):
            for _ in range(spans):
                with sentry_sdk.start_span(op="db", name="SELECT 1"):
                    pass

    def streamed_trace() -> None:
        with (
            sentry_sdk.isolation_scope(),
            sentry_sdk.traces.start_span(name="/api/v1/me/", parent_span=None),
        ):
            for _ in range(spans):
                with sentry_sdk.traces.start_span(name="SELECT 1"):
                    pass

    trace = streamed_trace if lifecycle == "stream" else static_trace
    for _ in range(count // 10):
        trace()
    started = time.thread_time()
    for _ in range(count):
        trace()
    elapsed = (time.thread_time() - started) / count
    sentry_sdk.get_client().close()
    sentry_sdk.init()
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--requests", type=int, default=10, help="per endpoint, mode and round")
    parser.add_argument(
        "--traces-sample-rate",
        type=float,
        default=1.0,
        help="Sentry tracing in the 'on' mode (1.0 = every request; production default 0.1)",
    )
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    user = user_create(email="bench@example.org")
    auth = f"Bearer {api_key_create(user=user, name='bench').raw}"
    for index in range(5):
        api_key_create(user=user, name=f"key {index}")

    sink = SinkProcess()
    port = sink.port

    endpoints = {"list": "/api/v1/api-keys/", "detail": "/api/v1/me/"}
    results: dict[tuple[str, str], Samples] = {
        (name, mode): {"wall": [], "cpu": [], "after": []} for name in endpoints for mode in MODES
    }
    monitoring = Monitoring(port, options.traces_sample_rate)
    for mode in MODES:
        for path in endpoints.values():
            timed(monitoring.use(mode), path, auth, 50)

    for round_index in range(options.rounds):
        order = MODES if round_index % 2 == 0 else MODES[::-1]
        for name, path in endpoints.items():
            for mode in order:
                handler = monitoring.use(mode)
                for clock, values in timed(handler, path, auth, options.requests).items():
                    results[(name, mode)][clock] += values
    relay_cpu = monitoring.relay_cpu_seconds()
    monitoring.close()
    received = sink.received()
    transactions = sink.transactions()
    sink.stop()

    print(
        f"{options.rounds} alternating rounds x {options.requests} requests per endpoint and mode;"
        f" Sentry tracing {options.traces_sample_rate:.0%} in 'on';"
        f" {received} posts reached the Sentry/PostHog sink; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"{'endpoint':<8} {'clock':<5} {'off p50':>8} {'on p50':>8} {'ratio':>6}   "
        f"{'off p95':>8} {'on p95':>8} {'ratio':>6}  (ms)"
    )
    ratios = []
    for name in endpoints:
        for clock in ("wall", "cpu"):
            off, on = results[(name, "off")][clock], results[(name, "on")][clock]
            row = [f"{name:<8} {clock:<5}"]
            for fraction in (0.5, 0.95):
                a, b = percentile(off, fraction), percentile(on, fraction)
                row.append(f"{a * 1000:8.3f} {b * 1000:8.3f} {b / a:6.3f}")
                ratios.append(b / a)
            print("   ".join(row))
    print(f"largest on/off ratio: {max(ratios):.3f} (target < 1.05)")

    print("\nby component (each mode adds one to the one above); CPU p50 in ms and ratio to off")
    print(f"{'mode':<12}" + "".join(f"{name:>18}" for name in endpoints))
    for mode in MODES:
        cells = []
        for name in endpoints:
            base = percentile(results[(name, "off")]["cpu"], 0.5)
            value = percentile(results[(name, mode)]["cpu"], 0.5)
            cells.append(f"{value * 1000:10.3f} {value / base:6.3f} ")
        print(f"{mode:<12}" + "".join(cells))

    print(
        "\nworker CPU after the response (closing it: a traced request's record goes to the"
        " trace relay then); mean ms"
    )
    for name in endpoints:
        cells = []
        for mode in ("off", "on"):
            after = results[(name, mode)]["after"]
            cells.append(f"{mode} {sum(after) / len(after) * 1000:.3f}")
        print(f"{name:<8} " + "   ".join(cells))
    per_transaction = relay_cpu / transactions * 1000 if transactions else 0.0
    print(
        f"trace relay (its own process): {transactions} transactions sent,"
        f" {relay_cpu:.2f} s of CPU, {per_transaction:.2f} ms each"
    )

    detail_off = percentile(results[("detail", "off")]["cpu"], 0.5)
    print("sentry-sdk floor: one bare trace, no integrations, discarding transport; CPU ms")
    spans_heading = f"{DETAIL_SPANS} spans"
    print(f"{'trace_lifecycle':<16} {'0 spans':>8} {spans_heading:>8}  share of detail off p50")
    lifecycles: tuple[Literal["static", "stream"], ...] = ("static", "stream")
    for lifecycle in lifecycles:
        bare = sdk_transaction_floor(0, lifecycle)
        floor = sdk_transaction_floor(DETAIL_SPANS, lifecycle)
        print(
            f"{lifecycle:<16} {bare * 1000:8.3f} {floor * 1000:8.3f}"
            f"  {bare / detail_off:.1%} / {floor / detail_off:.1%}"
        )


if __name__ == "__main__":
    main()
