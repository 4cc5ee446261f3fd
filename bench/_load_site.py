"""The load benchmark's site: environment, seeded users and data, processes, and the client.

Used by bench/load.py; see its docstring.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/phg_bench_load"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
METRICS_TOKEN = "bench-metrics-token"  # noqa: S105 (the benchmark's own server)
SECRET_KEY = "bench-load-" + "k3y-" * 12


@dataclass
class Actor:
    """One seeded user: what it may ask for and how it authenticates."""

    api_key: str
    session: str
    media_ids: list[str]
    job_ids: list[str]


def environment(args: argparse.Namespace, scratch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": DATABASE_URL,
        "DATABASE_POOL_MAX_SIZE": str(args.pool_size),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "MEDIA_ROOT": str(scratch / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(scratch / "prometheus"),
        "PHONOGLYPH_METRICS_TOKEN": METRICS_TOKEN,
        "PHONOGLYPH_RESULT_CACHE_SECONDS": str(args.result_cache_seconds),
        "PHONOGLYPH_SIGNUP_BONUS_CREDITS": "0",
        "PHONOGLYPH_UPLOADS_PER_HOUR": "100000",
        # The plan's request budgets are still checked on every request, but never run out:
        # the benchmark measures the server, not the free plan's 60 a minute.
        "PHONOGLYPH_FREE_REQUESTS_PER_MINUTE": "10000000",
        "PHONOGLYPH_FREE_REQUESTS_PER_DAY": "1000000000",
        "SENTRY_DSN": "",
        "POSTHOG_API_KEY": "",
        "LOG_LEVEL": "WARNING",
        **({"GUNICORN_WORKERS": str(args.gunicorn_workers)} if args.gunicorn_workers else {}),
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "GUNICORN_WORKER_CLASS": args.worker_class,
        "GUNICORN_THREADS": str(args.threads),
    }


def seed(env: dict[str, str], users: int, scratch: Path) -> list[Actor]:
    """Create the database, users with a session and an API key, uploads and finished jobs."""
    import psycopg
    import redis

    # A fresh database reuses user and job ids, so a cache left by an earlier run would answer
    # for them: start from an empty Redis database as well.
    redis.Redis.from_url(REDIS_URL).flushdb()
    base, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from accounts.services import api_key_create
    from analysis.models import AnalysisJob
    from analysis.services import analysis_job_create, analysis_job_run
    from billing.services import credits_grant
    from media.models import MediaFile

    wav = _wav(scratch)
    template_user = User.objects.create_user(email="template@bench.example", password=None)
    credits_grant(user=template_user, amount=10_000, reason="bench")
    template_media = _media(template_user, wav)
    job = analysis_job_create(
        user=template_user, media_public_id=template_media.public_id, features=None
    )
    analysis_job_run(job_id=job.pk, worker_host="bench-seed")
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message

    actors = []
    for index in range(users):
        user = User.objects.create_user(email=f"user{index}@bench.example", password=None)
        credits_grant(user=user, amount=100_000, reason="bench")
        media = [_media(user, wav) for _ in range(2)]
        jobs = [
            AnalysisJob.objects.create(
                owner=user,
                media=item,
                features=job.features,
                features_key=job.features_key,
                status=AnalysisJob.Status.SUCCEEDED,
                engine_version=job.engine_version,
                audio_sha256=job.audio_sha256,
                audio_seconds=job.audio_seconds,
                result=job.result,
                arrays_key=job.arrays_key,
                audio_analysis_key=job.audio_analysis_key,
                queued_at=job.queued_at,
                started_at=job.started_at,
                finished_at=job.finished_at,
                processing_seconds=job.processing_seconds,
                progress=100,
                soft_time_limit=job.soft_time_limit,
                time_limit=job.time_limit,
            )
            for item in media
        ]
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        actors.append(
            Actor(
                api_key=api_key_create(user=user).raw,
                session=str(session.session_key),
                media_ids=[str(item.public_id) for item in media],
                job_ids=[str(item.public_id) for item in jobs],
            )
        )
    assert MediaFile.objects.count() == 2 * users + 1
    from django.db import connections

    connections.close_all()
    return actors


def _wav(scratch: Path) -> bytes:
    import numpy as np

    from tests.analysis.audio import click_track_with_chord
    from tests.support.audio import write_wav

    samples = click_track_with_chord(seconds=4.0).astype(np.float32)
    return write_wav(scratch / "clip.wav", samples).read_bytes()


def _media(user: Any, wav: bytes) -> Any:
    import hashlib

    from django.core.files.base import ContentFile

    from media.models import MediaFile
    from media.storage import storage_key_new, storage_save

    key = storage_key_new(extension="wav")
    storage_save(key=key, content=ContentFile(wav), content_type="audio/wav")
    return MediaFile.objects.create(
        owner=user,
        display_name="clip.wav",
        status=MediaFile.Status.READY,
        container="wav",
        codec="pcm_s16le",
        duration_seconds=4.0,
        sample_rate=44100,
        channels=2,
        content_type="audio/wav",
        storage_key=key,
        size_bytes=len(wav),
        sha256=hashlib.sha256(wav).hexdigest(),
    )


def start(env: dict[str, str], scratch: Path) -> tuple[int, list[subprocess.Popen[bytes]]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    (scratch / "prometheus").mkdir(exist_ok=True)
    log = (scratch / "processes.log").open("ab")
    web = subprocess.Popen(
        [
            *[sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"],
            *["--bind", f"127.0.0.1:{port}"],
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            *[sys.executable, "-m", "celery", "-A", "phonoglyph", "worker"],
            *["-Q", "analysis,celery", "--concurrency", "1", "--loglevel", "WARNING"],
            *["-n", f"bench-{port}@%h"],
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz", {})[0] == 200:
                return port, [web, worker]
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start; see " + str(scratch / "processes.log"))


def _cpu_seconds(stat: str) -> tuple[int, float]:
    """(process group, utime + stime in seconds) from a /proc/<pid>/stat line."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_group_cpu_seconds(group: int) -> float:
    """CPU time used so far by the live processes of process group `group` (e.g. gunicorn)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pgrp, seconds = _cpu_seconds(stat.read_text())
        except (OSError, IndexError, ValueError):
            continue
        if pgrp == group:
            total += seconds
    return total


def database_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL backends connected to the benchmark database.

    Read from /proc, so PostgreSQL must run on this machine; a backend that exited is lost.
    """
    import psycopg

    name = DATABASE_URL.rpartition("/")[2]
    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_seconds(Path(f"/proc/{pid}/stat").read_text())[1]
        except (OSError, IndexError, ValueError):
            continue
    return total


_connections = threading.local()


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    """One request over this thread's keep-alive connection (reopened when it was closed)."""
    for attempt in range(2):
        connection = getattr(_connections, "c", None)
        if connection is None or getattr(_connections, "port", None) != port:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            _connections.c, _connections.port = connection, port
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            _connections.c = None
            if attempt:
                raise
    raise AssertionError("unreachable")
