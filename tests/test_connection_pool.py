"""On PostgreSQL the production settings pool connections with psycopg's pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import django
django.setup()
from django.db import connection

def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]

pids = set()
for _ in range(20):
    pids.add(backend_pid())
    connection.close()  # hands the connection back to the pool rather than closing it
print(len(pids) <= connection.pool.max_size, connection.pool.max_size, connection.pool.min_size)
"""


@pytest.mark.django_db
def test_closed_connections_go_back_to_the_pool_and_are_reused(postgres_url: str) -> None:
    test_database = postgres_url.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "DEBUG": "false",
        "SECRET_KEY": "pool-test-" + "k3y-" * 16,
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": test_database,
        "DATABASE_POOL_MAX_SIZE": "3",
        "DATABASE_POOL_MIN_SIZE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "3", "1"]
