"""Real server processes on loopback for end-to-end tests: gunicorn as deployed, and nginx."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

STARTUP_TIMEOUT_SECONDS = 30.0
GUNICORN_CONFIG = Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_status(url: str, timeout: float = 10.0) -> int:
    # Loopback URL built by the tests; no user input reaches it.
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
        return int(response.status)


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        try:
            get_status(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=5)
                pytest.fail(f"{process.args!r} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)


def server_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A production-like environment on a migrated SQLite file in `tmp_path`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "DEBUG": "false",
        "SECRET_KEY": "web-process-test-" + "k3y-" * 12,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PHONOGLYPH_LOCK_DIR": str(tmp_path / "locks"),
        "GUNICORN_ACCESS_LOG": "/dev/null",
        **overrides,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    return env


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *extra: str) -> Iterator[str]:
    """Run gunicorn with the deployment's config file on loopback; yield its base URL.

    Its error log (start-up, worker timeouts) goes to `log`.
    """
    port = free_port()
    with log.open("ab") as errors:
        master = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONFIG),
                "--bind",
                f"127.0.0.1:{port}",
                *extra,
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", master, log)
        yield base
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(timeout=5)


NGINX_CONFIG = Path(settings.BASE_DIR) / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    """Return the nginx executable, or skip (fail under PHONOGLYPH_REQUIRE_SERVICES=1)."""
    from tests.conftest import REQUIRE_SERVICES

    for candidate in ("/usr/sbin/nginx", shutil.which("nginx")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = "nginx is not installed (scripts/ci-system-packages installs it)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


@contextmanager
def nginx(upstream: str, workdir: Path) -> Iterator[str]:
    """Run deploy/nginx.conf on loopback in front of `upstream` (host:port); yield its URL."""
    binary = nginx_binary()
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = NGINX_CONFIG.read_text()
    for deployed, local in (
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("server web:8000;", f"server {upstream};"),
    ):
        assert deployed in config, f"deploy/nginx.conf no longer has {deployed!r}"
        config = config.replace(deployed, local)
    config = config.replace("access_log /dev/stdout;", "access_log off;")
    (workdir / "nginx.conf").write_text(config)
    globals_ = f"daemon off; pid {workdir / 'nginx.pid'};"
    if os.geteuid() == 0:
        # Workers would otherwise run as nobody, who cannot write the temp dirs in `workdir`.
        globals_ += " user root;"
    log = workdir / "nginx.log"
    with log.open("ab") as errors:
        process = subprocess.Popen(
            [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", globals_],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", process, log)
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
