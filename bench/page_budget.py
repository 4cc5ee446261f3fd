"""The results page in Chromium for 2-, 5- and 30-minute tracks: first contentful paint, bytes
transferred, frames per second during playback and JS heap growth.

A scratch SQLite database and media directory are made under a temporary directory; each track
gets a browser-playable preview (a 440 Hz tone with clicks, encoded by the engine's ffmpeg) and
a succeeded analysis whose stored result has the real shapes and densities of the engine's
output (43 frames/s timeline, 100 points/s waveform, beats at 120 BPM, four onsets a second, a
section every 20 s), so the page transfers and draws what it would for real music. The page is
served by Django's live-server thread (static files included) and opened in /usr/bin/chromium.

Bytes are the encoded sizes of every response the page loads before playback, audio excluded
(the player asks only for the preview's first bytes with preload=metadata; audio streams as
played). FPS is the median of per-second requestAnimationFrame counts over `--fps-seconds` of
playback; heap is `performance.memory.usedJSHeapSize` after a GC at 30 s and at `--heap-seconds`.

Usage: .venv/bin/python -m bench.page_budget [--minutes 2 5 30] [--fps-seconds 30]
       [--heap-seconds 180]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRATCH = Path(tempfile.mkdtemp(prefix="phonoglyph-page-budget-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["MEDIA_ROOT"] = str(SCRATCH / "media")
os.environ["AWS_STORAGE_BUCKET_NAME"] = ""

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from analysis.models import AnalysisJob  # noqa: E402
from engine.decode import ffmpeg_executable  # noqa: E402
from media.models import MediaFile  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FRAME_RATE = 44100 / 1024


def _preview(seconds: int) -> Path:
    path = SCRATCH / f"tone-{seconds}.webm"
    subprocess.run(
        [
            ffmpeg_executable(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}:sample_rate=48000",
            "-ac",
            "2",
            "-c:a",
            "libopus",
            "-b:a",
            "128k",
            "-f",
            "webm",
            str(path),
        ],
        check=True,
    )
    return path


def _result(seconds: int, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    frames = int(seconds * FRAME_RATE)
    beats = [round(0.25 + i * 0.5, 3) for i in range(int(seconds * 2))]
    onsets = sorted(round(rng.uniform(0, seconds), 3) for _ in range(seconds * 4))
    sections = [
        {
            "start": float(s),
            "end": float(min(seconds, s + 20)),
            "key": "E",
            "scale": "minor",
            "key_strength": 0.6,
        }
        for s in range(0, seconds, 20)
    ]
    events: list[dict[str, Any]] = sorted(
        [{"t": b, "type": "beat", "strength": 0.8} for b in beats]
        + [{"t": t, "type": "onset", "strength": round(rng.random(), 3)} for t in onsets],
        key=lambda e: float(e["t"]),
    )
    summary = {
        "schema_version": 2,
        "engine_version": "bench",
        "duration": float(seconds),
        "sample_rate": 44100,
        "channels": 2,
        "tempo": {
            "bpm": 120.0,
            "confidence": 0.9,
            "alternatives": [],
            "beats_per_bar": 4,
            "meter_confidence": 0.7,
            "tatums_per_beat": 2,
        },
        "beats": beats,
        "downbeats": beats[::4],
        "key": {"key": "E", "scale": "minor", "strength": 0.6},
        "loudness": {"integrated_lufs": -14.0, "range_lu": 6.0, "true_peak_dbtp": -1.0},
        "absent": {},
        "onsets": [{"t": t, "strength": round(rng.random(), 3)} for t in onsets],
        "sections": sections,
        "events": events,
    }

    def series(scale: float, digits: int) -> list[float]:
        return [round(rng.random() * scale, digits) for _ in range(frames)]

    arrays = {
        "timeline": {
            "frame_rate": round(FRAME_RATE, 6),
            "rms": series(0.3, 5),
            "spectral_centroid": series(5000, 1),
            "spectral_flux": series(10, 3),
            "chroma": [[round(rng.random(), 3) for _ in range(12)] for _ in range(frames)],
            "bands": {
                "names": [
                    "sub_bass",
                    "bass",
                    "low_mid",
                    "mid",
                    "upper_mid",
                    "presence",
                    "brilliance",
                    "air",
                ],
                "values": [[round(rng.random() * 0.1, 5) for _ in range(8)] for _ in range(frames)],
            },
            "mfcc": [[round(rng.uniform(-50, 50), 3) for _ in range(13)] for _ in range(frames)],
            "loudness_momentary": [round(-30 + rng.random() * 20, 2) for _ in range(frames)],
        },
        "waveform": {
            "points_per_second": 100,
            "min": [round(-rng.random() * 0.5, 4) for _ in range(seconds * 100)],
            "max": [round(rng.random() * 0.5, 4) for _ in range(seconds * 100)],
        },
    }
    return summary, arrays


def _job(user: Any, seconds: int) -> AnalysisJob:
    rng = random.Random(seconds)
    preview = _preview(seconds)
    key = default_storage.save(f"previews/bench-{seconds}.webm", ContentFile(preview.read_bytes()))
    media = MediaFile.objects.create(
        owner=user,
        display_name=f"{seconds // 60}-minute track",
        storage_key=key,
        size_bytes=preview.stat().st_size,
        sha256="0" * 64,
        container="ogg",
        codec="opus",
        duration_seconds=seconds,
        sample_rate=48000,
        channels=2,
        content_type="audio/webm",
        preview_key=key,
        preview_content_type="audio/webm",
        preview_status=MediaFile.PreviewStatus.READY,
        status=MediaFile.Status.READY,
    )
    summary, arrays = _result(seconds, rng)
    arrays_key = default_storage.save(
        f"analysis/bench-{seconds}/arrays.json.gz",
        ContentFile(gzip.compress(json.dumps(arrays, separators=(",", ":")).encode())),
    )
    return AnalysisJob.objects.create(
        owner=user,
        media=media,
        features=["tempo", "key", "loudness", "onsets", "sections", "timeline", "waveform"],
        features_key="bench",
        engine_version="bench",
        audio_sha256="0" * 64,
        audio_seconds=seconds,
        status="succeeded",
        result=summary,
        arrays_key=arrays_key,
        soft_time_limit=60,
        time_limit=120,
    )


FPS_PROBE = """
(seconds) => new Promise((done) => {
  const counts = []; let frames = 0; let second = performance.now();
  function tick(now) {
    frames++;
    if (now - second >= 1000) { counts.push(frames); frames = 0; second = now; }
    if (counts.length < seconds) { requestAnimationFrame(tick); } else { done(counts); }
  }
  requestAnimationFrame(tick);
})
"""


def _measure(
    page: Any, base: str, job: AnalysisJob, fps_seconds: int, heap_seconds: int
) -> dict[str, Any]:
    sizes: dict[str, int] = {}
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    urls: dict[str, str] = {}
    session.on(
        "Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"])
    )
    session.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    page.goto(f"{base}/analyses/{job.public_id}/")
    page.wait_for_function("() => document.getElementById('analysis-job').dataset.ready")
    page.wait_for_timeout(500)
    fcp = page.evaluate(
        "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
    )
    page_bytes = sum(
        size
        for rid, size in sizes.items()
        if "/preview/" not in urls.get(rid, "") and "/stream/" not in urls.get(rid, "")
    )
    audio_bytes = sum(size for rid, size in sizes.items() if "/preview/" in urls.get(rid, ""))
    page.locator("#analysis-panes").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Visualizer preview").click()
    counts = page.evaluate(FPS_PROBE, fps_seconds)
    heap = {}
    for mark in (30, heap_seconds):
        played = page.evaluate("() => document.getElementById('audio-player').currentTime")
        page.wait_for_timeout(max(0, (mark - played) * 1000))
        session.send("HeapProfiler.collectGarbage")
        heap[mark] = page.evaluate("() => performance.memory.usedJSHeapSize")
    return {
        "minutes": job.audio_seconds / 60,
        "fcp_ms": fcp,
        "page_bytes": page_bytes,
        "audio_bytes_before_play": audio_bytes,
        "fps_median": statistics.median(counts),
        "fps_min": min(counts),
        "heap_30s": heap[30],
        f"heap_{heap_seconds}s": heap[heap_seconds],
        "heap_growth_pct": round(100 * (heap[heap_seconds] - heap[30]) / heap[30], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, nargs="+", default=[2, 5, 30])
    parser.add_argument("--fps-seconds", type=int, default=30)
    parser.add_argument("--heap-seconds", type=int, default=180)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = UserFactory.create()
    jobs = [_job(user, minutes * 60) for minutes in args.minutes]
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    base = f"http://127.0.0.1:{server.port}"
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--autoplay-policy=no-user-gesture-required",
                "--enable-precise-memory-info",
            ],
        )
        for job in jobs:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
            )
            results.append(
                _measure(context.new_page(), base, job, args.fps_seconds, args.heap_seconds)
            )
            context.close()
            print(json.dumps(results[-1]), flush=True)
        browser.close()
    server.terminate()
    json.dump(results, sys.stdout, indent=2)


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"\n{time.monotonic() - started:.0f} s", file=sys.stderr)
