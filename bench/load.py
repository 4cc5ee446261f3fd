"""Load benchmark: the production web command on PostgreSQL and Redis, with a real worker.

Starts `gunicorn --config deploy/gunicorn.conf.py` (the Dockerfile's command) under the
production settings and one Celery worker, seeds users with sessions, API keys, uploads and
succeeded analyses, and then:

1. closed loop: `--users` virtual users, each waiting 1 to 3 s between requests, doing the
   realistic mix (pages with a session, API lists and details, results and the Spotify-style
   view, polling, uploads and analysis starts at a small share) for `--seconds`;
2. open loop: the API read mix at fixed arrival rates, rising by `--step` from `--start-rate`,
   `--step-seconds` each, until p95 passes 200 ms or a request fails. A request's latency runs
   from its scheduled start, so a server that falls behind is charged for the queue it builds
   (no coordinated omission).

It prints p50/p95/p99 per route, the error count, the rate, the load average, the result
cache's hit rate (from /metrics) and, for each open-loop step, the CPU time per request of
gunicorn, of PostgreSQL and of this load generator, which unlike the rates hardly depend on
what else the machine runs. Out of CI; see bench/RESULTS.md.

Usage: .venv/bin/python bench/load.py [--users 100] [--seconds 60] [--gunicorn-workers N]
       [--pool-size 4] [--result-cache-seconds 86400] [--warm-up-seconds S] [--skip-ramp]
       [--skip-users]
Databases: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/phg_bench_load, created
and migrated) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/15, flushed).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._load_site import (  # noqa: E402
    METRICS_TOKEN,
    Actor,
    database_cpu_seconds,
    environment,
    process_group_cpu_seconds,
    request,
    seed,
    start,
)

THRESHOLD_MS = 200.0


@dataclass
class Samples:
    """Latencies (ms) per route and errors, shared by the generator threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0

    def add(self, route: str, ms: float, ok: bool) -> None:
        with self.lock:
            self.latencies[route].append(ms)
            self.finished = max(self.finished, time.perf_counter())
            if not ok:
                self.errors[route] += 1


Step = tuple[str, str, str, dict[str, str], bytes | None, set[int]]


def _upload_body(wav: bytes) -> tuple[bytes, str]:
    boundary = "benchboundary" + str(random.randrange(10**9))
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + wav
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def mix_step(actor: Actor, wav: bytes, reads_only: bool) -> Step:
    """One request of the mix: (route, method, path, headers, body, accepted statuses)."""
    api = {"Authorization": f"Bearer {actor.api_key}", "Accept-Encoding": "gzip"}
    job = random.choice(actor.job_ids)
    media = random.choice(actor.media_ids)
    results = f"/api/v1/analyses/{job}"
    reads: list[tuple[float, Step]] = [
        (15, ("api media list", "GET", "/api/v1/media/", api, None, {200})),
        (15, ("api analyses list", "GET", "/api/v1/analyses/", api, None, {200})),
        (10, ("api media detail", "GET", f"/api/v1/media/{media}/", api, None, {200})),
        (25, ("api analysis detail", "GET", f"/api/v1/analyses/{job}/", api, None, {200})),
        (
            10,
            (
                "api audio-analysis",
                "GET",
                f"{results}/audio-analysis/",
                api,
                None,
                {200},
            ),
        ),
        (10, ("api timeline", "GET", f"{results}/timeline/", api, None, {200})),
    ]
    if not reads_only:
        page = {"Cookie": f"sessionid={actor.session}"}
        body, content_type = _upload_body(wav)
        reads += [
            (6, ("page library", "GET", "/media/", page, None, {200})),
            (4, ("page analysis", "GET", f"/analyses/{job}/", page, None, {200})),
            (
                3,
                (
                    "api upload",
                    "POST",
                    "/api/v1/media/",
                    {**api, "Content-Type": content_type},
                    body,
                    {201},
                ),
            ),
            (
                2,
                (
                    "api analysis start",
                    "POST",
                    "/api/v1/analyses/",
                    {**api, "Content-Type": "application/json"},
                    f'{{"media": "{media}", "features": ["tempo"]}}'.encode(),
                    {200, 202},
                ),
            ),
        ]
    weights = [weight for weight, _ in reads]
    return random.choices([step for _, step in reads], weights=weights)[0]


def fire(port: int, step: Step, samples: Samples, scheduled: float) -> None:
    route, method, path, headers, body, accepted = step
    try:
        status, _ = request(port, method, path, headers, body)
        ok = status in accepted
    except OSError:
        ok = False
    samples.add(route, (time.perf_counter() - scheduled) * 1000, ok)


def closed_loop(port: int, actors: list[Actor], wav: bytes, seconds: float) -> Samples:
    samples = Samples()
    deadline = time.perf_counter() + seconds

    def user(actor: Actor) -> None:
        time.sleep(random.uniform(0, 3))
        while time.perf_counter() < deadline:
            fire(port, mix_step(actor, wav, reads_only=False), samples, time.perf_counter())
            time.sleep(random.uniform(1, 3))

    threads = [threading.Thread(target=user, args=(actor,), daemon=True) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


@dataclass
class CpuUse:
    """CPU seconds used so far by the web server's processes, the database and this client."""

    web: float
    database: float
    client: float

    @classmethod
    def now(cls, web_group: int) -> CpuUse:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            web=process_group_cpu_seconds(web_group),
            database=database_cpu_seconds(),
            client=usage.ru_utime + usage.ru_stime,
        )

    def per_request(self, before: CpuUse, requests: int) -> str:
        each = [
            1000 * (after - earlier) / max(requests, 1)
            for after, earlier in (
                (self.web, before.web),
                (self.database, before.database),
                (self.client, before.client),
            )
        ]
        return (
            f"CPU per request: gunicorn {each[0]:.2f} ms, PostgreSQL {each[1]:.2f} ms, "
            f"load generator {each[2]:.2f} ms"
        )


def open_loop(port: int, actors: list[Actor], wav: bytes, rate: float, seconds: float) -> Samples:
    """Fire the API read mix at `rate` per second for `seconds`, whatever the server does."""
    samples = Samples()
    total = int(rate * seconds)
    start_at = time.perf_counter() + 0.5
    samples.started = start_at
    slots = iter(range(total))
    slot_lock = threading.Lock()

    def shooter() -> None:
        while True:
            with slot_lock:
                index = next(slots, None)
            if index is None:
                return
            scheduled = start_at + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif -delay > seconds:
                # The server is a whole step behind: count the rest as failed, not sent.
                samples.add("(not sent: overload)", -delay * 1000, ok=False)
                continue
            fire(port, mix_step(random.choice(actors), wav, reads_only=True), samples, scheduled)

    threads = [threading.Thread(target=shooter, daemon=True) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def report(title: str, samples: Samples) -> tuple[float, int]:
    every = [ms for values in samples.latencies.values() for ms in values]
    errors = sum(samples.errors.values())
    took = max(samples.finished - samples.started, 1e-6)
    print(
        f"\n{title}: {len(every)} requests completed in {took:.1f} s = {len(every) / took:.1f} "
        f"req/s, {errors} errors, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'route':<22} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for route in sorted(samples.latencies):
        values = samples.latencies[route]
        print(
            f"{route:<22} {len(values):>6} {percentile(values, 0.5):>8.1f} "
            f"{percentile(values, 0.95):>8.1f} {percentile(values, 0.99):>8.1f} "
            f"{samples.errors[route]:>6}"
        )
    p95 = percentile(every, 0.95)
    print(
        f"{'all':<22} {len(every):>6} {percentile(every, 0.5):>8.1f} {p95:>8.1f} "
        f"{percentile(every, 0.99):>8.1f} {errors:>6}"
    )
    return p95, errors


def cache_counts(port: int) -> dict[str, float]:
    """The result cache's hits and misses so far, summed over every web worker."""
    _, body = request(port, "GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    counts: dict[str, float] = defaultdict(float)
    pattern = r'phonoglyph_result_cache_total\{[^}]*outcome="(hit|miss)"[^}]*\} ([0-9.e+]+)'
    for outcome, value in re.findall(pattern, body.decode()):
        counts[outcome] += float(value)
    return counts


def cache_hit_rate(port: int, before: dict[str, float]) -> str:
    """The hit rate of the reads since `before`."""
    now = cache_counts(port)
    hits = now["hit"] - before.get("hit", 0.0)
    misses = now["miss"] - before.get("miss", 0.0)
    if not hits + misses:
        return "result cache: no reads"
    rate = 100 * hits / (hits + misses)
    return f"result cache: {hits:.0f} hits, {misses:.0f} misses, hit rate {rate:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--gunicorn-workers", type=int, default=0, help="0: the config's default")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--result-cache-seconds", type=int, default=86400)
    parser.add_argument("--start-rate", type=float, default=50)
    parser.add_argument("--step", type=float, default=50)
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument(
        "--warm-up-seconds",
        type=float,
        default=0,
        help="before the ramp, the read mix at --start-rate for this long, not reported",
    )
    parser.add_argument("--skip-ramp", action="store_true")
    parser.add_argument("--skip-users", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="phg-load-"))
    env = environment(args, scratch)
    print(
        f"{os.cpu_count()} cores; load average {os.getloadavg()}; gunicorn "
        f"{args.gunicorn_workers or 'default'} x {args.worker_class} (threads {args.threads}); "
        f"pool {args.pool_size}; result cache {args.result_cache_seconds} s; {args.users} users"
    )
    actors = seed(env, args.users, scratch)
    wav = (scratch / "clip.wav").read_bytes()
    port, processes = start(env, scratch)
    try:
        for actor in actors[:10]:  # warm every worker's imports and connections
            request(port, "GET", "/api/v1/media/", {"Authorization": f"Bearer {actor.api_key}"})
        if not args.skip_users:
            before = cache_counts(port)
            samples = closed_loop(port, actors, wav, args.seconds)
            report(f"closed loop, {args.users} users, think time 1-3 s", samples)
            print(cache_hit_rate(port, before))
        if not args.skip_ramp:
            if args.warm_up_seconds:
                # Fills the result cache and every worker's caches, as traffic would have.
                warm = open_loop(port, actors, wav, args.start_rate, args.warm_up_seconds)
                report(f"warm-up (not counted) at {args.start_rate:.0f}/s", warm)
            rate = args.start_rate
            best = 0.0
            while True:
                before = cache_counts(port)
                cpu_before = CpuUse.now(processes[0].pid)
                samples = open_loop(port, actors, wav, rate, args.step_seconds)
                cpu = CpuUse.now(processes[0].pid)
                p95, errors = report(f"open loop, API read mix offered at {rate:.0f}/s", samples)
                print(cache_hit_rate(port, before))
                completed = sum(len(values) for values in samples.latencies.values())
                print(cpu.per_request(cpu_before, completed))
                if p95 >= THRESHOLD_MS or errors:
                    break
                best = rate
                rate += args.step
            print(
                f"\nhighest rate with p95 < {THRESHOLD_MS:.0f} ms and no errors: {best:.0f} req/s"
            )
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
