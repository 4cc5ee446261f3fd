"""Speed and peak memory of stem separation on 1-, 5- and 30-minute stereo files.

Each file is the generated backing of tests/engine (chords, a bass line, drums) tiled to the
length, stored as FLAC. Every measurement runs in a fresh child process pinned to one BLAS
thread, so its CPU time is one core's: the real-time factor per core is audio seconds over CPU
seconds (the child's own plus its ffmpeg decoder and encoders). Peak RSS is the child's
(ru_maxrss). Beside it, librosa's median-filtering HPSS (librosa.decompose.hpss on a 2048-point
STFT of each channel, loaded whole as librosa does) runs on the same files.

    .venv/bin/python bench/stems_speed.py [--minutes 1 5 30] [--librosa-max-minutes 5]

Needs the converted weights (scripts/convert-stem-weights) and, for the comparison, librosa
(`pip install -e '.[bench]'`).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WEIGHTS = ROOT / "var" / "models" / "spleeter-2stems"
SR = 44100
TILE_SECONDS = 60.0
TARGET_RTF = 5.0
TARGET_RSS_MB = 1536


def _write_flac(path: Path, minutes: float) -> None:
    """Stream the tiled backing into ffmpeg; the whole file is never held in memory here."""
    import numpy as np

    from engine.decode import ffmpeg_executable
    from tests.engine.stem_signals import backing

    tile = (backing(TILE_SECONDS).total * 0.8).astype("<f4")
    total = int(minutes * 60 * SR)
    command = [
        ffmpeg_executable(), "-nostdin", "-y", "-v", "error", "-f", "f32le", "-ar", str(SR),
        "-ac", "2", "-i", "pipe:0", "-c:a", "flac", str(path),
    ]  # fmt: skip
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        written = 0
        while written < total:
            part = tile[: min(len(tile), total - written)]
            proc.stdin.write(np.ascontiguousarray(part).tobytes())
            written += len(part)
        proc.stdin.close()
        proc.wait()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(mode: str, path: str) -> None:
    # Imports (librosa's numba set-up above all) are not part of the work measured.
    if mode == "engine":
        from engine.stems import separate
    else:
        import librosa
        import numpy as np
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    if mode == "engine":
        with tempfile.TemporaryDirectory() as out:
            result = separate(path, out, weights_dir=WEIGHTS)
            seconds = result.duration_seconds
    else:
        audio, rate = librosa.load(path, sr=None, mono=False)
        seconds = audio.shape[-1] / rate
        for channel in np.atleast_2d(audio):
            spectrum = librosa.stft(channel, n_fft=2048, hop_length=512)
            harmonic, percussive = librosa.decompose.hpss(spectrum)
            librosa.istft(percussive, hop_length=512, length=len(channel))
            librosa.istft(harmonic, hop_length=512, length=len(channel))
    print(
        json.dumps(
            {
                "audio_seconds": seconds,
                "wall": time.perf_counter() - started,
                "cpu": _cpu_seconds() - cpu_started,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def _measure(mode: str, path: Path) -> dict[str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    run = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"{mode} failed on {path.name}:\n{run.stderr[-2000:]}")
    measured: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 5, 30])
    parser.add_argument(
        "--librosa-max-minutes",
        type=float,
        default=5.0,
        help="longest file to give librosa, which holds the whole file and its spectrograms "
        "(about 0.5 GB per minute of stereo audio)",
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    load = os.getloadavg()[0]
    print(f"one BLAS thread per run; load average {load:.1f} on {os.cpu_count()} cores")
    print(
        f"{'file':>8} {'method':<22} {'wall s':>8} {'cpu s':>8} {'x RT/core':>10} {'peak RSS':>10}"
    )
    verdicts = []
    with tempfile.TemporaryDirectory() as folder:
        for minutes in args.minutes:
            path = Path(folder) / f"backing-{minutes:g}min.flac"
            _write_flac(path, minutes)
            modes = ["engine", "librosa"] if minutes <= args.librosa_max_minutes else ["engine"]
            for mode in modes:
                got = _measure(mode, path)
                rtf = got["audio_seconds"] / got["cpu"]
                label = "stems (4, Spleeter + DSP)" if mode == "engine" else "librosa HPSS (2)"
                print(
                    f"{minutes:>6g} m {label:<23} {got['wall']:>8.1f} {got['cpu']:>8.1f} "
                    f"{rtf:>10.2f} {got['peak_rss_mb']:>7.0f} MB",
                    flush=True,
                )
                if mode == "engine":
                    verdicts.append((minutes, rtf, got["peak_rss_mb"]))
            path.unlink()
    for minutes, rtf, rss in verdicts:
        ok = rtf >= TARGET_RTF and (minutes < 30 or rss < TARGET_RSS_MB)
        print(
            f"{minutes:g} min: {rtf:.2f}x real time per core (target >= {TARGET_RTF:g}), "
            f"peak RSS {rss:.0f} MB (target < {TARGET_RSS_MB} MB at 30 min): "
            f"{'OK' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
