"""`manage.py analyze PATH`: run the engine on a local file, no database or worker involved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.errors import EngineError
from engine.features import FEATURES, UnknownFeatures, validate_features
from engine.pipeline import analyze

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Analyse a local audio file and print the result (a summary, or JSON with --json)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Audio file to analyse.")
        parser.add_argument(
            "--features",
            default="",
            help=f"Comma-separated subset of: {','.join(FEATURES)} (default: all).",
        )
        parser.add_argument("--json", action="store_true", help="Print the full result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        features = [name.strip() for name in options["features"].split(",") if name.strip()]
        try:
            wanted = validate_features(features)
        except UnknownFeatures as error:
            raise CommandError(
                f"unknown feature(s) {', '.join(error.unknown)}; allowed: {', '.join(FEATURES)}",
                returncode=EXIT_BAD_INPUT,
            ) from error
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=EXIT_BAD_INPUT)
        try:
            result = analyze(path, features=wanted).to_dict()
        except EngineError as error:
            raise CommandError(f"{path}: {error.message}", returncode=EXIT_BAD_INPUT) from error
        except PermissionError as error:
            raise CommandError(f"{path}: cannot be read", returncode=EXIT_BAD_INPUT) from error
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write("\n".join(summary_lines(result)))


def summary_lines(result: dict[str, Any]) -> list[str]:
    """A few human-readable lines about a result dict."""
    lines = [
        f"duration     {result['duration']:.2f} s, {result['sample_rate']} Hz, "
        f"{result['channels']} channel(s)"
    ]
    if "tempo" in result:
        tempo = result["tempo"]
        if tempo["bpm"] is None:
            lines.append(f"tempo        absent ({result['absent'].get('tempo', 'unknown')})")
        else:
            lines.append(
                f"tempo        {tempo['bpm']:.1f} BPM (confidence {tempo['confidence']:.2f}), "
                f"{len(result.get('beats', []))} beats"
            )
    if "key" in result:
        key = result["key"]
        if key["key"] is None:
            lines.append(f"key          absent ({result['absent'].get('key', 'unknown')})")
        else:
            lines.append(
                f"key          {key['key']} {key['scale']} (strength {key['strength']:.2f})"
            )
    if "loudness" in result:
        loud = result["loudness"]
        lines.append(
            f"loudness     {_number(loud.get('integrated_lufs'))} LUFS integrated, "
            f"range {_number(loud.get('range_lu'))} LU, "
            f"true peak {_number(loud.get('true_peak_dbtp'))} dBTP"
        )
    if "onsets" in result:
        lines.append(f"onsets       {len(result['onsets'])}")
    if "sections" in result:
        lines.append(f"sections     {len(result['sections'])}")
    if "timeline" in result:
        timeline = result["timeline"]
        lines.append(f"timeline     {len(timeline['rms'])} frames at {timeline['frame_rate']} fps")
    if "waveform" in result:
        lines.append(f"waveform     {result['waveform']['points_per_second']} points/s")
    lines.append(f"engine       {result['engine_version']} (Essentia {result['essentia_version']})")
    return lines


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
