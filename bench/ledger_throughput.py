"""Throughput of the credits ledger: N worker processes doing reserve + capture on PostgreSQL.

Each operation is what a job costs the ledger: `credits_reserve` of 3 credits, then
`credits_capture` of 2 (the rest is released). Two layouts per N: every worker on its own
account (the system accounts are shared, but only appended to) and every worker on one account
(all of them queue on that account's row lock). After each run every balance is checked
against the operations that succeeded, the ledger is reconciled, the system postings are
folded and the ledger reconciled again; anything unexpected is an anomaly and must be 0.

Statements per op counts every SQL statement the workers sent through Django (savepoints
included; not the BEGIN and COMMIT that open and close each of an operation's two
transactions), divided by the operations done. The load average of the machine is printed
before each run, since other processes on it share the cores with PostgreSQL and the workers.

Usage: .venv/bin/python bench/ledger_throughput.py [--seconds 5] [--workers 1 4 16]
The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/phg_bench_ledger);
it is created when missing and migrated.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

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


def work(user_id: int, start: float, seconds: float) -> tuple[int, int, int]:
    """Reserve and capture until the deadline; return (operations done, errors, statements)."""
    connections.close_all()
    user = User.objects.get(pk=user_id)
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
    connections.close_all()
    return done, errors, statements


def run(workers: int, seconds: float, shared: bool) -> tuple[int, float, int, float]:
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
    ops = sum(done for done, _, _ in results)
    anomalies = sum(errors for _, errors, _ in results)
    statements = sum(count for _, _, count in results)
    per_user: dict[int, int] = {}
    for user_id, (done, _, _) in zip(assignment, results, strict=True):
        per_user[user_id] = per_user.get(user_id, 0) + done
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
    return ops, ops / seconds, anomalies, statements / max(ops, 1)


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
        f"{'anomalies':>9} {'load avg':>8}"
    )
    total_anomalies = 0
    for shared in (False, True):
        for workers in options.workers:
            load = os.getloadavg()[0]
            ops, rate, anomalies, per_op = run(workers, options.seconds, shared)
            total_anomalies += anomalies
            layout = "1 shared" if shared else f"{workers} own"
            print(
                f"{workers:>7} {layout:>9} {ops:>7} {rate:>8.1f} {per_op:>8.1f} {anomalies:>9} "
                f"{load:>8.2f}"
            )
    print(f"anomalies: {total_anomalies} (must be 0)")
    if total_anomalies:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
