"""`manage.py separate PATH --out DIR`: split a local file into four FLAC stems.

Runs the engine in this process: no database, no worker, no credits. Prints the stems' paths,
one a line; input that cannot be separated exits with status 2 and one line on stderr.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Separate a local audio file into vocals, drums, bass and other (FLAC)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="Audio file to separate.")
        parser.add_argument("--out", type=Path, required=True, help="Folder for the stems.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here so that other commands never load the engine.
        from engine.errors import EngineError
        from engine.stems import separate

        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            result = separate(path, options["out"], weights_dir=settings.STEMS_WEIGHTS_DIR)
        except EngineError as error:
            raise CommandError(f"{path}: {error.message}", returncode=2) from error
        for stem in result.stems:
            self.stdout.write(stem.path)
