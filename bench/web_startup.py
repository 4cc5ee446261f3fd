"""Start-up cost of a web process: import time, modules loaded, and whether Essentia came along.

Each run is a fresh interpreter that does what a gunicorn worker does before its first request:
`django.setup()` (which imports every app's models and admin), the WSGI application, and the
URL configuration with every view module. `--repo` measures another checkout of the project
the same way, so two commits can be compared on one machine in one sitting.

Usage: .venv/bin/python bench/web_startup.py [--runs 15] [--repo PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys, time
started = time.perf_counter()
import django
django.setup()
from django.conf import settings
from django.urls import get_resolver
from phonoglyph.wsgi import application
get_resolver(settings.ROOT_URLCONF).url_patterns
elapsed = time.perf_counter() - started
print(json.dumps({
    "seconds": elapsed,
    "modules": len(sys.modules),
    "essentia": any(name == "essentia" or name.startswith("essentia.") for name in sys.modules),
}))
"""


def measure(repo: Path, runs: int) -> list[dict[str, float]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "phonoglyph.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "k3y-" * 12,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    samples = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    samples = measure(args.repo.resolve(), args.runs)
    seconds = sorted(sample["seconds"] * 1000 for sample in samples)
    print(f"checkout {args.repo}; {args.runs} fresh interpreters; bytecode cached after the first")
    print(
        f"start-up to a routed WSGI app: median {statistics.median(seconds):.0f} ms, "
        f"min {seconds[0]:.0f} ms, max {seconds[-1]:.0f} ms"
    )
    print(f"modules loaded: {int(samples[-1]['modules'])}")
    print(f"essentia imported: {'yes' if samples[-1]['essentia'] else 'no'}")


if __name__ == "__main__":
    main()
