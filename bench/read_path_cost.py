"""CPU per request of the API read mix, through the WSGI handler gunicorn runs.

Seeds the load benchmark's database (bench/_load_site.py: users with API keys, uploads and
succeeded analyses) under the production settings on PostgreSQL and Redis, then calls
`phonoglyph.wsgi.application` in this process, as a gunicorn sync worker does, for each route
of the read mix (bench/load.py) over many users, and prints per route:

- `web ms`: this thread's CPU time per request (`time.thread_time()`), the part a web
  worker spends in Python, measured after warming every cache the route has;
- `db ms`: the CPU the PostgreSQL backends of the benchmark database used per request
  (their utime + stime from /proc, so PostgreSQL must run on this machine);
- `SQL`: statements per request (Django's CaptureQueriesContext);
- `redis`: Redis commands sent per request.

CPU time, unlike wall-clock time, hardly changes with the neighbours' load, so the numbers
compare across runs on a shared machine. `--profile ROUTE` prints the cProfile of that route
instead. Out of CI; see bench/RESULTS.md ("Load").

Usage: .venv/bin/python bench/read_path_cost.py [--users 20] [--requests 300]
       [--profile "api media list"]
Databases: BENCH_DATABASE_URL and BENCH_REDIS_URL, as bench/load.py (dropped and flushed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._load_site import Actor, database_cpu_seconds, environment, seed  # noqa: E402

Route = tuple[str, Callable[[Actor], str]]

ROUTES: list[Route] = [
    ("api media list", lambda actor: "/api/v1/media/"),
    ("api analyses list", lambda actor: "/api/v1/analyses/"),
    ("api media detail", lambda actor: f"/api/v1/media/{random.choice(actor.media_ids)}/"),
    ("api analysis detail", lambda actor: f"/api/v1/analyses/{random.choice(actor.job_ids)}/"),
    (
        "api audio-analysis",
        lambda actor: f"/api/v1/analyses/{random.choice(actor.job_ids)}/audio-analysis/",
    ),
    (
        "api timeline",
        lambda actor: f"/api/v1/analyses/{random.choice(actor.job_ids)}/timeline/",
    ),
]
# The read mix's weights (bench/load.py, mix_step), to weigh the per-route costs.
WEIGHTS = {
    "api media list": 15,
    "api analyses list": 15,
    "api media detail": 10,
    "api analysis detail": 25,
    "api audio-analysis": 10,
    "api timeline": 10,
}


def wsgi_environ(path: str, api_key: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {api_key}",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def serve(application: Any, path: str, api_key: str) -> int:
    """One request as gunicorn serves it: call, read the body, close (request_finished)."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        status.append(line)

    body: Iterable[bytes] = application(wsgi_environ(path, api_key), start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0])


class RedisCommands:
    """Count the commands sent to Redis (a pipeline or a script call counts as one)."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        import redis.connection

        original = redis.connection.AbstractConnection.send_packed_command
        counter = self

        def counted(connection: Any, command: Any, check_health: bool = True) -> None:
            counter.count += 1
            original(connection, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


def measure(
    application: Any, actors: list[Actor], route: Route, requests: int
) -> tuple[float, float, float, float]:
    """Per request of `route`: web CPU ms, PostgreSQL CPU ms, SQL statements, Redis commands.

    The CPU times are the median over BATCHES batches, so a burst of the neighbours' work
    (which also slows this thread's caches) does not decide the figure.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    name, path_of = route
    for actor in actors:  # warm: every user's key, plan and results once
        for _ in range(3):
            assert serve(application, path_of(actor), actor.api_key) == 200, name
    calls = [(path_of(actor), actor.api_key) for actor in random.choices(actors, k=requests)]
    statements = 0
    for path, key in calls[:50]:
        with CaptureQueriesContext(connection) as queries:
            serve(application, path, key)
        statements += len(queries.captured_queries)
    redis_commands = REDIS_COMMANDS.count
    for path, key in calls[:50]:
        serve(application, path, key)
    redis_commands = REDIS_COMMANDS.count - redis_commands
    web: list[float] = []
    db: list[float] = []
    size = max(1, requests // BATCHES)
    for batch in range(BATCHES):
        chunk = calls[batch * size : (batch + 1) * size]
        backend_before = database_cpu_seconds()
        started = time.thread_time()
        for path, key in chunk:
            serve(application, path, key)
        web.append((time.thread_time() - started) / len(chunk) * 1000)
        db.append((database_cpu_seconds() - backend_before) / len(chunk) * 1000)
    return statistics.median(web), statistics.median(db), statements / 50, redis_commands / 50


BATCHES = 5
REDIS_COMMANDS = RedisCommands()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per route")
    parser.add_argument("--profile", default="", help="a route name: print its cProfile")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: e.g. tottime")
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--result-cache-seconds", type=int, default=86400)
    args = parser.parse_args()
    args.gunicorn_workers, args.worker_class, args.threads = 0, "sync", 1
    scratch = Path(tempfile.mkdtemp(prefix="phg-readcost-"))
    try:
        env = environment(args, scratch)
        actors = seed(env, args.users, scratch)
        (scratch / "prometheus").mkdir(exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = env["PROMETHEUS_MULTIPROC_DIR"]
        REDIS_COMMANDS.install()
        from phonoglyph.wsgi import application

        print(
            f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.users} users; "
            f"{args.requests} requests per route; pool {args.pool_size}"
        )
        if args.profile:
            route = next(route for route in ROUTES if route[0] == args.profile)
            measure(application, actors, route, 50)
            profile = cProfile.Profile()
            profile.enable()
            for actor in random.choices(actors, k=args.requests):
                serve(application, route[1](actor), actor.api_key)
            profile.disable()
            pstats.Stats(profile).sort_stats(args.sort).print_stats(45)
            return
        print(f"{'route':<22} {'web ms':>7} {'db ms':>7} {'SQL':>5} {'redis':>6}")
        weighted = [0.0, 0.0]
        for route in ROUTES:
            web, db, statements, commands = measure(application, actors, route, args.requests)
            weight = WEIGHTS[route[0]] / sum(WEIGHTS.values())
            weighted[0] += weight * web
            weighted[1] += weight * db
            print(f"{route[0]:<22} {web:>7.2f} {db:>7.2f} {statements:>5.1f} {commands:>6.1f}")
        print(
            f"{'read mix (weighted)':<22} {weighted[0]:>7.2f} {weighted[1]:>7.2f}"
            f"      load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
