"""Slow clients do not stop the site in the documented deployment (nginx before gunicorn).

Clients that send a request body at 10 bytes a second would each pin a sync gunicorn worker
until its timeout; nginx buffers the body and only passes complete requests on. The bodies are
form posts with a CSRF cookie, which Django reads before answering (an upload without a key is
refused before its body is read, so it would not show the problem).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.web_processes import gunicorn, nginx, server_environment

pytestmark = pytest.mark.slow

WORKERS = 3
SLOW_CLIENTS = 6
TRICKLE_SECONDS = 6.0
BUDGET_SECONDS = 1.0


@contextmanager
def _slow_bodies(base: str, count: int) -> Iterator[None]:
    """Hold `count` uploads open, each sending 10 bytes a second, until the block ends."""
    address = urlsplit(base)
    stop = threading.Event()
    sockets = []
    for _ in range(count):
        connection = socket.create_connection((address.hostname, address.port), timeout=5)
        connection.sendall(
            b"POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Cookie: csrftoken=" + b"c" * 32 + b"\r\n"
            b"Content-Length: 1000000\r\n\r\nusername="
        )
        sockets.append(connection)

    def trickle() -> None:
        while not stop.wait(1.0):
            for connection in sockets:
                with suppress(OSError):
                    connection.sendall(b"x" * 10)

    sender = threading.Thread(target=trickle)
    sender.start()
    time.sleep(1.5)
    try:
        yield
    finally:
        stop.set()
        sender.join(timeout=5)
        for connection in sockets:
            connection.close()


def _get_seconds(base: str, path: str, timeout: float = 10.0) -> float:
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("GET", path)
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    return time.monotonic() - started


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """gunicorn and nginx as documented; yield (nginx URL, gunicorn URL)."""
    env = server_environment(
        tmp_path, GUNICORN_WORKERS=str(WORKERS), RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP"
    )
    with ExitStack() as stack:
        web = stack.enter_context(gunicorn(env, tmp_path / "gunicorn.log"))
        proxy = stack.enter_context(nginx(urlsplit(web).netloc, tmp_path / "nginx"))
        yield proxy, web


def test_slow_bodies_through_nginx_leave_probes_and_pages_fast(
    deployment: tuple[str, str],
) -> None:
    proxy, _ = deployment
    timings: list[float] = []
    with _slow_bodies(proxy, SLOW_CLIENTS):
        deadline = time.monotonic() + TRICKLE_SECONDS
        while time.monotonic() < deadline:
            timings.append(_get_seconds(proxy, "/healthz"))
            timings.append(_get_seconds(proxy, "/account/login/"))
            time.sleep(0.3)
    assert len(timings) >= 8
    assert max(timings) < BUDGET_SECONDS, timings


def test_the_same_slow_bodies_straight_to_gunicorn_block_it(
    deployment: tuple[str, str],
) -> None:
    # Shows what the proxy prevents, so the test above can fail.
    _, web = deployment
    with _slow_bodies(web, WORKERS), pytest.raises(TimeoutError):
        _get_seconds(web, "/healthz", timeout=2.0)
