"""Back up and restore a deployment: the database, the stored files, and a manifest of both.

`scripts/backup DIR` writes into DIR (created, must be empty):

    database.dump      PostgreSQL: pg_dump custom format (restored with pg_restore)
    database.sqlite3   SQLite (the embedded default): a copy by SQLite's online backup API
    files/<name>       every object of the default storage (local folder or S3 bucket)
    manifest.json      the database file's and every stored object's size and SHA-256, and
                       the row count of every table, written last: a backup without one is
                       incomplete

The database is dumped first and the files copied after, so every file a dumped row names is
there; an upload that lands in between only adds an object no row names.

`scripts/restore DIR` checks every checksum of the backup, loads the database into the
configured (empty) database, writes the files into the configured storage, then reads every
row count and every stored object back and compares them with the manifest. It exits 1 on
any difference. The target is whatever DATABASE_URL, MEDIA_ROOT or AWS_STORAGE_BUCKET_NAME
name, so a restore into a fresh instance is the same command with that instance's settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class Copied:
    name: str
    size: int
    sha256: str


def _copy(source: IO[bytes], target: IO[bytes]) -> tuple[int, str]:
    """Stream `source` into `target`; return the bytes copied and their SHA-256."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _database() -> dict[str, Any]:
    from django.db import connections

    settings_dict: dict[str, Any] = connections["default"].settings_dict
    return settings_dict


def _libpq_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    return env


def _program(name: str) -> str:
    """The PostgreSQL client program's path; it must match the server's major version or be
    newer (Debian: postgresql-client)."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _is_postgresql(db: dict[str, Any]) -> bool:
    return "postgresql" in str(db["ENGINE"])


def storage_names(storage: Any, folder: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local storage whose folder was never created holds nothing
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from storage_names(storage, f"{folder}/{sub}" if folder else sub)


def _tables() -> dict[str, str]:
    from django.apps import apps

    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def row_counts() -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label)._default_manager.count() for label in _tables()}


def _dump_postgresql(db: dict[str, Any], dump: Path) -> tuple[dict[str, int], int]:
    """pg_dump in the snapshot the row counts are read in, so the manifest matches the dump."""
    from django.db import connections, transaction

    connection = connections["default"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
        rows = row_counts()
        # The arguments are a fixed program, paths we chose and the configured database name.
        subprocess.run(  # noqa: S603
            [
                _program("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                str(db["NAME"]),
            ],
            env=_libpq_env(db),
            check=True,
        )
    return rows, int(size)


def _dump_sqlite(db: dict[str, Any], dump: Path) -> tuple[dict[str, int], int]:
    """SQLite's online backup, and the row counts read from the copy it made."""
    source = sqlite3.connect(str(db["NAME"]))
    target = sqlite3.connect(dump)
    try:
        source.backup(target)
        # Table names come from the models' metadata, not from input.
        counts = {
            label: int(target.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608
            for label, table in _tables().items()
        }
        return counts, Path(str(db["NAME"])).stat().st_size
    finally:
        source.close()
        target.close()


def backup(destination: Path) -> dict[str, Any]:
    """Write a backup of the configured database and storage into `destination`."""
    from django.core.files.storage import default_storage

    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise SystemExit(f"backup: {destination} is not empty")
    db = _database()
    started = time.monotonic()
    if _is_postgresql(db):
        dump = destination / "database.dump"
        rows, live_size = _dump_postgresql(db, dump)
    else:
        dump = destination / "database.sqlite3"
        rows, live_size = _dump_sqlite(db, dump)
    database_seconds = time.monotonic() - started

    started = time.monotonic()
    copied: list[Copied] = []
    for name in storage_names(default_storage):
        path = destination / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, path.open("wb") as target:
            size, sha256 = _copy(source, target)
        copied.append(Copied(name=name, size=size, sha256=sha256))
    files_seconds = time.monotonic() - started

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": {
            "engine": "postgresql" if _is_postgresql(db) else "sqlite",
            "file": dump.name,
            "bytes": dump.stat().st_size,
            "live_bytes": live_size,
            "sha256": _file_sha256(dump),
            "seconds": round(database_seconds, 3),
        },
        "rows": rows,
        "files": [{"name": c.name, "bytes": c.size, "sha256": c.sha256} for c in copied],
        "files_seconds": round(files_seconds, 3),
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _checked_manifest(source: Path) -> dict[str, Any]:
    """The manifest, once every file of the backup matches its checksum."""
    path = source / MANIFEST
    if not path.exists():
        raise SystemExit(f"restore: {path} is missing; the backup is incomplete")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise SystemExit(f"restore: unknown manifest format {manifest.get('format')!r}")
    database = manifest["database"]
    if _file_sha256(source / database["file"]) != database["sha256"]:
        raise SystemExit(f"restore: {database['file']} does not match its checksum")
    for entry in manifest["files"]:
        if _file_sha256(source / "files" / entry["name"]) != entry["sha256"]:
            raise SystemExit(f"restore: files/{entry['name']} does not match its checksum")
    return manifest


def restore(source: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """Load a checked backup into the configured (empty) database and storage.

    Returns the manifest and the seconds the database and the files took.
    """
    from django.core.files import File
    from django.core.files.storage import default_storage
    from django.db import connections

    manifest = _checked_manifest(source)
    db = _database()
    dump = source / manifest["database"]["file"]
    started = time.monotonic()
    if manifest["database"]["engine"] == "postgresql":
        if not _is_postgresql(db):
            raise SystemExit("restore: a PostgreSQL backup needs a PostgreSQL DATABASE_URL")
        connections.close_all()
        subprocess.run(  # noqa: S603 (a fixed program, the configured database, our backup)
            [
                _program("pg_restore"),
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--dbname={db['NAME']}",
                str(dump),
            ],
            env=_libpq_env(db),
            check=True,
        )
    else:
        if _is_postgresql(db):
            raise SystemExit("restore: an SQLite backup needs an SQLite DATABASE_URL")
        connections.close_all()
        backup_db = sqlite3.connect(dump)
        target = sqlite3.connect(str(db["NAME"]))
        try:
            backup_db.backup(target)
        finally:
            backup_db.close()
            target.close()
    database_seconds = time.monotonic() - started

    started = time.monotonic()
    for entry in manifest["files"]:
        with (source / "files" / entry["name"]).open("rb") as handle:
            saved = default_storage.save(entry["name"], File(handle))
        if saved != entry["name"]:
            raise SystemExit(f"restore: storage already holds {entry['name']}; use an empty one")
    files_seconds = time.monotonic() - started
    return manifest, {"database": database_seconds, "files": files_seconds}


def verify(source: Path) -> list[str]:
    """What differs between the backup's manifest and the configured database and storage."""
    from django.core.files.storage import default_storage

    manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    problems = [
        f"rows of {label}: {count} restored, {manifest['rows'][label]} backed up"
        for label, count in row_counts().items()
        if count != manifest["rows"].get(label, 0)
    ]
    for entry in manifest["files"]:
        digest = hashlib.sha256()
        with default_storage.open(entry["name"], "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != entry["sha256"]:
            problems.append(f"file {entry['name']}: checksum differs")
    return problems


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _rate(size: int, seconds: float) -> str:
    return f"{size / 1e6:.1f} MB in {seconds:.2f} s ({size / 1e6 / max(seconds, 1e-6):.1f} MB/s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("backup", "restore", "verify"))
    parser.add_argument("directory", type=Path)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phonoglyph.settings")
    import django

    django.setup()
    if options.action == "backup":
        manifest = backup(options.directory)
        files_size = sum(entry["bytes"] for entry in manifest["files"])
        database = manifest["database"]
        dumped = f"{database['bytes'] / 1e6:.1f} MB dump"
        _say(f"database: {_rate(database['live_bytes'], database['seconds'])}, {dumped}")
        _say(f"files: {len(manifest['files'])}, {_rate(files_size, manifest['files_seconds'])}")
        return 0
    if options.action == "restore":
        manifest, seconds = restore(options.directory)
        files_size = sum(entry["bytes"] for entry in manifest["files"])
        _say(f"database: {_rate(manifest['database']['live_bytes'], seconds['database'])}")
        _say(f"files: {len(manifest['files'])}, {_rate(files_size, seconds['files'])}")
    problems = verify(options.directory)
    for problem in problems:
        sys.stderr.write(f"verify: {problem}\n")
    _say("verify: OK" if not problems else f"verify: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
