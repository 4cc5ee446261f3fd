"""Throughput of the credits ledger: N worker processes doing reserve + capture on PostgreSQL.

Each operation is what a job costs the ledger: `credits_reserve` of 3 credits, then
`credits_capture` of 2 (the rest is released). Two layouts per N: every worker on its own
account (the system accounts are shared, but only appended to) and every worker on one account
(all of them queue on that account's row lock). After each run every balance is checked
against the operations that succeeded, the ledger is reconciled, the system postings are
folded and the ledger reconciled again; anything unexpected is an anomaly and must be 0.

Statements per op counts every SQL statement the workers sent through Django (savepoints
included; not a BEGIN or COMMIT that opens or closes a transaction), divided by the
operations done. CPU per op is the user + system time the
workers (client) and their PostgreSQL backends (server, read from /proc, so only when the
server runs on this machine) spent during the run, divided by the operations done: unlike
the rate, it hardly depends on what else the machine runs. The load average of the machine
is printed before each run, since other processes on it share the cores with PostgreSQL and
the workers.

Usage: .venv/bin/python bench/ledger_throughput.py [--seconds 5] [--workers 1 4 16]
The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/phg_bench_ledger);
it is created when missing and migrated. REDIS_URL, when set, is the cache as in production:
the credits-low check after every movement then clears its marker in Redis.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/phg_bench_ledger"
)
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["POSTHOG_API_KEY"] = ""
os.environ["SENTRY_DSN"] = ""
os.environ.setdefault("LOG_LEVEL", "WARNING")

import psycopg  # noqa: E402

RESERVE = 3
CAPTURE = 2
FUNDING = 10**9


def ensure_database() -> None:
    base, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


ensure_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from accounts.models import User  # noqa: E402
from billing.selectors import credit_balance_for_user, ledger_reconcile  # noqa: E402
from billing.services import (  # noqa: E402
    credits_capture,
    credits_grant,
    credits_reserve,
    system_postings_fold,
)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid`, or None when it is not on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Done(NamedTuple):
    ops: int
    errors: int
    statements: int
    client_cpu: float
    server_cpu: float | None


def work(user_id: int, start: float, seconds: float) -> Done:
    """Reserve and capture until the deadline; return what was done and what it cost."""
    connections.close_all()
    user = User.objects.get(pk=user_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    done = 0
    errors = 0
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    while time.time() < start:
        time.sleep(0.001)
    deadline = start + seconds
    client_before = time.process_time()
    server_before = cpu_seconds(backend)
    with connection.execute_wrapper(count):
        while time.time() < deadline:
            ref = f"bench:{uuid.uuid4()}"
            try:
                credits_reserve(user=user, amount=RESERVE, feature="analysis", job_ref=ref)
                settlement = credits_capture(
                    job_ref=ref, feature="analysis", amount=CAPTURE, usage_quantity=60
                )
                if (settlement.captured, settlement.released) != (CAPTURE, RESERVE - CAPTURE):
                    errors += 1
                else:
                    done += 1
            except Exception as error:  # every failure is an anomaly to count, not to stop on
                print(f"  worker error: {error!r}", file=sys.stderr)
                errors += 1
    client_cpu = time.process_time() - client_before
    server_after = cpu_seconds(backend)
    server_cpu = (
        None if server_before is None or server_after is None else server_after - server_before
    )
    connections.close_all()
    return Done(done, errors, statements, client_cpu, server_cpu)


class Run(NamedTuple):
    ops: int
    rate: float
    anomalies: int
    statements_per_op: float
    client_ms_per_op: float
    server_ms_per_op: float | None


def run(workers: int, seconds: float, shared: bool) -> Run:
    users = [
        User.objects.create_user(email=f"bench-{uuid.uuid4()}@example.com")
        for _ in range(1 if shared else workers)
    ]
    for user in users:
        credits_grant(user=user, amount=FUNDING, reason="benchmark funding")
    assignment = [users[0].pk if shared else users[i].pk for i in range(workers)]
    connections.close_all()
    start = time.time() + 1.0
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        results = pool.starmap(work, [(user_id, start, seconds) for user_id in assignment])
    ops = sum(result.ops for result in results)
    anomalies = sum(result.errors for result in results)
    statements = sum(result.statements for result in results)
    client_cpu = sum(result.client_cpu for result in results)
    server_cpus = [result.server_cpu for result in results]
    per_user: dict[int, int] = {}
    for user_id, result in zip(assignment, results, strict=True):
        per_user[user_id] = per_user.get(user_id, 0) + result.ops
    for user in users:
        balance = credit_balance_for_user(user=user)
        if balance.available != FUNDING - CAPTURE * per_user[user.pk] or balance.reserved:
            print(f"  balance anomaly for user {user.pk}: {balance}", file=sys.stderr)
            anomalies += 1
    for moment in ("before the fold", "after the fold"):
        report = ledger_reconcile()
        if not report.ok:
            print(f"  reconciliation anomaly {moment}: {report}", file=sys.stderr)
            anomalies += 1 + len(report.drift_accounts)
        if moment == "before the fold":
            system_postings_fold()
    done = max(ops, 1)
    server_ms = (
        None
        if any(cpu is None for cpu in server_cpus)
        else 1000 * sum(cpu or 0.0 for cpu in server_cpus) / done
    )
    return Run(
        ops, ops / seconds, anomalies, statements / done, 1000 * client_cpu / done, server_ms
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(
        f"PostgreSQL {DATABASE_URL.rpartition('@')[2]}; {os.cpu_count()} cores; "
        f"{options.seconds:g} s per run; one op = reserve {RESERVE} + capture {CAPTURE}"
    )
    print(
        f"{'workers':>7} {'accounts':>9} {'ops':>7} {'ops/s':>8} {'stmts/op':>8} "
        f"{'client ms/op':>12} {'server ms/op':>12} {'anomalies':>9} {'load avg':>8}"
    )
    total_anomalies = 0
    for shared in (False, True):
        for workers in options.workers:
            load = os.getloadavg()[0]
            result = run(workers, options.seconds, shared)
            total_anomalies += result.anomalies
            layout = "1 shared" if shared else f"{workers} own"
            server = "-" if result.server_ms_per_op is None else f"{result.server_ms_per_op:.2f}"
            print(
                f"{workers:>7} {layout:>9} {result.ops:>7} {result.rate:>8.1f} "
                f"{result.statements_per_op:>8.1f} {result.client_ms_per_op:>12.2f} "
                f"{server:>12} {result.anomalies:>9} {load:>8.2f}"
            )
    print(f"anomalies: {total_anomalies} (must be 0)")
    if total_anomalies:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
