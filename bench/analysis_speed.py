"""Analysis speed and memory: the engine beside bare Essentia MusicExtractor and librosa.

Run from the repository root::

    .venv/bin/python -m bench.analysis_speed [--long-minutes 30] [--workdir DIR]

Every measurement runs in a fresh child process that imports its library and analyses the
first file once unmeasured, then reads its CPU clock around the analysis of each file. CPU
time is the child's own user + system time plus that of the processes it waited for (the
engine's ffmpeg decoder), so "x real time per core" is seconds of audio over CPU seconds,
however many threads did the work. Every child runs with one BLAS/OpenMP/numba thread
(``SINGLE_THREAD_VARIABLES``): per-core throughput is what one worker slot gets, and OpenBLAS
threads spinning while they wait inflated the engine's CPU time by up to 40 % (and its wall
time too). Peak RSS is the analysing process's ``ru_maxrss``; the decoder's own peak is listed
beside it.

The files: the six real clips in ``tests/data/real`` and a generated 5-minute stereo FLAC
(drums and chords changing key and tempo every minute) for the speed table; a generated
stereo FLAC of ``--long-minutes`` for peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._corpus import real_clips, write_long_music

TOOLS = ("engine", "musicextractor", "librosa")
SINGLE_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
LABELS = {
    "engine": "Phonoglyph engine, full default feature set",
    "musicextractor": "Essentia MusicExtractor (standard, defaults)",
    "librosa": "librosa tempo+beats+chroma+onsets",
}


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


def _engine() -> Callable[[Path], float]:
    from engine.pipeline import analyze

    def run(path: Path) -> float:
        return analyze(path).duration

    return run


def _musicextractor() -> Callable[[Path], float]:
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False

    def run(path: Path) -> float:
        features, _ = es.MusicExtractor()(str(path))
        return float(features["metadata.audio_properties.length"])

    return run


def _librosa() -> Callable[[Path], float]:
    import librosa

    def run(path: Path) -> float:
        signal, rate = librosa.load(path, sr=22050, mono=True)
        envelope = librosa.onset.onset_strength(y=signal, sr=rate)
        librosa.beat.beat_track(onset_envelope=envelope, sr=rate)
        librosa.feature.chroma_stft(y=signal, sr=rate)
        librosa.onset.onset_detect(onset_envelope=envelope, sr=rate)
        return float(signal.size / rate)

    return run


def _child(tool: str, paths: list[str]) -> None:
    run = {"engine": _engine, "musicextractor": _musicextractor, "librosa": _librosa}[tool]()
    # One unmeasured run first: librosa compiles its numba kernels on first use and every
    # library fills its caches; the table compares steady-state throughput.
    run(Path(paths[0]))
    rows = []
    for path in paths:
        started = _cpu_seconds()
        wall = time.perf_counter()
        audio = run(Path(path))
        rows.append(
            {
                "file": Path(path).name,
                "audio_seconds": audio,
                "cpu_seconds": _cpu_seconds() - started,
                "wall_seconds": time.perf_counter() - wall,
            }
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    waited = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "peak_rss_mb": own, "peak_child_rss_mb": waited}))


def _measure(tool: str, paths: list[Path]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.analysis_speed", "--child", tool, *map(str, paths)]
    environment = {**os.environ, **dict.fromkeys(SINGLE_THREAD_VARIABLES, "1")}
    completed = subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def _speed_table(files: list[Path]) -> None:
    print(f"Speed on {len(files)} files (x real time per core = audio s / CPU s)")
    header = f"{'file':<64} {'audio s':>8}" + "".join(f" {tool:>15}" for tool in TOOLS)
    print(header)
    results = {tool: _measure(tool, files) for tool in TOOLS}
    for index, path in enumerate(files):
        audio = results["engine"]["rows"][index]["audio_seconds"]
        cells = "".join(
            f" {r['rows'][index]['audio_seconds'] / r['rows'][index]['cpu_seconds']:>14.1f}x"
            for r in results.values()
        )
        print(f"{path.name:<64} {audio:>8.1f}{cells}")
    cells = ""
    for tool in TOOLS:
        rows = results[tool]["rows"]
        total = sum(r["audio_seconds"] for r in rows) / sum(r["cpu_seconds"] for r in rows)
        cells += f" {total:>14.1f}x"
    audio_total = sum(r["audio_seconds"] for r in results["engine"]["rows"])
    print(f"{'all files':<64} {audio_total:>8.1f}{cells}")
    for tool in TOOLS:
        print(f"  {tool}: {LABELS[tool]}")


def _long_file(path: Path, minutes: float) -> None:
    print(f"\nGenerated {minutes:g}-minute stereo FLAC ({path.stat().st_size / 1e6:.0f} MB)")
    print(
        f"{'tool':<16} {'x real time':>12} {'CPU s':>8} {'wall s':>8} {'peak RSS MB':>12} "
        f"{'decoder RSS MB':>15}"
    )
    for tool in ("engine", "musicextractor"):
        measured = _measure(tool, [path])
        row = measured["rows"][0]
        decoder = f"{measured['peak_child_rss_mb']:>15.0f}" if tool == "engine" else f"{'-':>15}"
        print(
            f"{tool:<16} {row['audio_seconds'] / row['cpu_seconds']:>11.1f}x "
            f"{row['cpu_seconds']:>8.1f} {row['wall_seconds']:>8.1f} "
            f"{measured['peak_rss_mb']:>12.0f} {decoder}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--workdir", type=Path, help="where to write the generated files")
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.paths)
        return
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        generated = workdir / "generated_5min.flac"
        if not generated.exists():
            write_long_music(generated, 5.0)
        _speed_table([clip.path for clip in real_clips()] + [generated])
        long_path = workdir / f"generated_{args.long_minutes:g}min.flac"
        if not long_path.exists():
            write_long_music(long_path, args.long_minutes)
        _long_file(long_path, args.long_minutes)


if __name__ == "__main__":
    main()
