"""The relay: a child process that builds and sends the transactions of a worker's traced requests.

Turning a traced request's record into a Sentry transaction, then serialising, compressing and
posting it, costs about 2 ms of CPU. Done by a thread of the worker it would hold the
interpreter lock while the next requests run, and on a sub-millisecond endpoint the tenth of
requests that are traced would slow down every other one. So the worker writes the record (a
few hundred bytes of JSON, one line) to a pipe and goes on; the relay, started on the first
traced request, reads the lines, builds each transaction with the SDK, scrubs it by the same
rules as every event (`telemetry.scrubbing`) and posts it, outside the worker.

The contract, seen from the worker (`submit`):
- A write never blocks: when the relay is behind and the pipe (1 MiB) is full, the record is
  dropped and counted (`phonoglyph_traces_dropped_total{reason="relay_behind"}`). Past the
  pipe, the relay's SDK queue (`RELAY_SEND_QUEUE` envelopes) drops as the SDK does, and says
  so in its client reports to Sentry.
- A record the relay cannot take (the relay could not be started, or has died, or the record is
  larger than one atomic pipe write) is refused, and the caller sends it from the worker as
  before; a relay that died is started again after `RESTART_AFTER_SECONDS`.
- Errors never go through the relay: they are sent by the worker, with their full context.
- The relay ends when the pipe closes (the worker stopped it or exited, even by a crash),
  after sending what it holds.

A forked child (a pre-forking server's worker) starts a relay of its own on first use.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sentry_sdk

from telemetry.metrics import TRACES_DROPPED

logger = logging.getLogger(__name__)

RELAY_MODULE = "telemetry.trace_relay"
# Room for a few thousand records: seconds of a busy worker's traces while the relay catches up.
PIPE_BYTES = 1 << 20
RESTART_AFTER_SECONDS = 60.0
# The SDK's own queue of envelopes waiting for the network (its default is 100).
RELAY_SEND_QUEUE = 1000
RELAY_FLUSH_SECONDS = 5.0
# How long the relay sleeps when the pipe is empty: how late a transaction may leave.
RELAY_POLL_SECONDS = 0.2
# Linux's fcntl command to resize a pipe (not named by the fcntl module on every platform).
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


@dataclass(frozen=True)
class RelayTarget:
    """Where the relay sends: the worker's own Sentry project, environment and release."""

    dsn: str
    environment: str | None
    release: str | None


def _target_of_current_client() -> RelayTarget | None:
    client = sentry_sdk.get_client()
    if not client.is_active():
        return None
    options = client.options
    dsn = options.get("dsn")
    if not dsn:
        return None
    return RelayTarget(str(dsn), options.get("environment"), options.get("release"))


class TraceRelay:
    """This process's end of the relay: the child process and the pipe to it."""

    def __init__(self) -> None:
        self.enabled = True
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.pipe: IO[bytes] | None = None
        self.target: RelayTarget | None = None
        self.failed_at: float | None = None

    def submit(self, record: dict[str, Any]) -> bool:
        """Hand `record` to the relay; False when the caller must send it itself."""
        if not self.enabled:
            return False
        target = _target_of_current_client()
        if target is None:
            return False
        pipe = self.pipe
        if pipe is None or target != self.target:
            pipe = self._start(target)
            if pipe is None:
                return False
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        if len(line) > select.PIPE_BUF:
            # Larger writes may interleave with another thread's; such a record is rare.
            return False
        try:
            os.write(pipe.fileno(), line)
        except BlockingIOError:
            TRACES_DROPPED.labels(reason="relay_behind").inc()
        except OSError:
            logger.warning("the trace relay has stopped; transactions are sent in process")
            self._lost(pipe)
            return False
        return True

    def _start(self, target: RelayTarget) -> IO[bytes] | None:
        with self.lock:
            if self.pipe is not None and self.target == target:
                return self.pipe
            self._close(RELAY_FLUSH_SECONDS)
            failed_at = self.failed_at
            if failed_at is not None and time.monotonic() - failed_at < RESTART_AFTER_SECONDS:
                return None
            try:
                self.process, self.pipe = _spawn(target)
            except OSError:
                logger.exception("the trace relay could not be started")
                self.failed_at = time.monotonic()
                return None
            self.target = target
            self.failed_at = None
            return self.pipe

    def _lost(self, pipe: IO[bytes]) -> None:
        with self.lock:
            if self.pipe is pipe:
                self._close(0.0)
                self.failed_at = time.monotonic()

    def stop(self, timeout_seconds: float) -> None:
        """Close the pipe and wait (at most `timeout_seconds`) for the relay to send and exit.

        The next record starts a new relay at once, even if the last one had died.
        """
        with self.lock:
            self._close(timeout_seconds)
            self.failed_at = None

    def _close(self, timeout_seconds: float) -> None:
        pipe, process = self.pipe, self.process
        self.pipe = self.process = self.target = None
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
        if process is not None:
            try:
                process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's relay without touching its process."""
        self.lock = threading.Lock()
        self.process = None
        self._close(0.0)
        self.failed_at = None


def _spawn(target: RelayTarget) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start the relay, tell it where to send, and make its pipe large and non-blocking."""
    if not sys.executable:
        # Embedded interpreters may not know their own binary; nothing could run the relay.
        raise OSError("no Python executable to run the trace relay with")
    environment = dict(os.environ)
    # The relay imports only this package's Django-free modules, from wherever this one lies.
    root = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (root, environment.get("PYTHONPATH", "")) if part
    )
    # It records no metrics: files of its own in the worker's metrics directory would be read
    # as those of a worker.
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(  # noqa: S603  # this interpreter, this package's module
        [sys.executable, "-m", RELAY_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=environment,
        # Its own session: a terminal's Ctrl-C stops the worker, whose closing pipe then
        # tells the relay to send what it holds and exit.
        start_new_session=True,
    )
    pipe = process.stdin
    if pipe is None:  # stdin=PIPE always gives one
        raise OSError("the trace relay has no input pipe")
    pipe.write(
        json.dumps(
            {"dsn": target.dsn, "environment": target.environment, "release": target.release}
        ).encode()
        + b"\n"
    )
    pipe.flush()
    fd = pipe.fileno()
    # Above the system's pipe-max-size the resize fails and the default 64 KiB serves.
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
    os.set_blocking(fd, False)
    return process, pipe


_relay = TraceRelay()
os.register_at_fork(after_in_child=_relay.forget_after_fork)


def submit(record: dict[str, Any]) -> bool:
    """Hand a traced request's record to this process's relay; False: send it yourself."""
    return _relay.submit(record)


def relay_process_id() -> int | None:
    """The process id of this process's relay, None while it has none."""
    process = _relay.process
    return None if process is None else process.pid


def stop(timeout_seconds: float) -> None:
    """Stop this process's relay once it has sent what it holds (at most `timeout_seconds`)."""
    _relay.stop(timeout_seconds)


def set_enabled(enabled: bool) -> None:
    """Use the relay (the default) or send every transaction from this process."""
    _relay.enabled = enabled
    if not enabled:
        _relay.stop(RELAY_FLUSH_SECONDS)


def _read_target(fd: int) -> tuple[dict[str, Any] | None, bytes]:
    """The first line (where to send; None when the pipe closed before it came) and what
    arrived after it."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 4096)
        if not chunk:
            return None, b""
        data += chunk
    first, rest = data.split(b"\n", 1)
    return dict(json.loads(first)), rest


def run_relay(fd: int) -> None:
    """The relay's own loop: the target on the first line, then one record a line until EOF.

    The relay never waits in a read: it sleeps and then takes what has arrived. A reader
    blocked on the pipe would be woken by every record, and that wake-up, paid in the worker's
    write, cost more than everything else the worker does for a traced request (a write took
    0.08 to 0.2 ms on this project's virtual machines against about 0.005 ms without it).
    """
    from telemetry.scrubbing import before_send_transaction, event_scrubber
    from telemetry.tracing import send_record

    target, pending = _read_target(fd)
    if target is None:
        return
    sentry_sdk.init(
        dsn=target["dsn"],
        environment=target["environment"],
        release=target["release"],
        # Every record is of a request already decided to be traced.
        traces_sample_rate=1.0,
        send_default_pii=False,
        event_scrubber=event_scrubber(),
        before_send_transaction=before_send_transaction,  # type: ignore[arg-type]
        # The relay only sends: no integration has anything to instrument here.
        default_integrations=False,
        auto_enabling_integrations=False,
        transport_queue_size=RELAY_SEND_QUEUE,
    )
    os.set_blocking(fd, False)
    while True:
        *lines, pending = pending.split(b"\n")
        for line in lines:
            try:
                send_record(json.loads(line))
            except Exception:
                logger.exception("a traced request's record could not be sent")
        try:
            chunk = os.read(fd, PIPE_BYTES)
        except BlockingIOError:
            time.sleep(RELAY_POLL_SECONDS)
            continue
        if not chunk:
            break
        pending += chunk
    sentry_sdk.flush(timeout=RELAY_FLUSH_SECONDS)
    sentry_sdk.get_client().close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="trace relay: %(levelname)s %(message)s")
    run_relay(sys.stdin.fileno())
