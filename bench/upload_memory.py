"""Peak memory growth of the serving process while it receives 10, 100 and 200 MB uploads.

Starts gunicorn (one sync worker) on 127.0.0.1 with a throwaway SQLite database and media
directory, uploads valid WAV files of each size to POST /api/v1/media/ with a streaming client
(the body is never built in memory here either), and reads the worker's peak RSS (VmHWM,
reset through /proc/<pid>/clear_refs before each upload). The ffmpeg probe is a separate
process and is not counted.

    .venv/bin/python -m bench.upload_memory [--sizes-mb 10 100 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.support.audio import write_wav

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SAMPLE_RATE = 44100
CHANNELS = 2
WAV_HEADER_BYTES = 44
MB = 1000 * 1000
TARGET_GROWTH_MB = 64


def write_wav_of_size(path: Path, size_bytes: int) -> None:
    """Write a valid 16-bit stereo 44.1 kHz WAV of exactly `size_bytes` (a 440 Hz tone)."""
    frames = (size_bytes - WAV_HEADER_BYTES) // (CHANNELS * 2)
    second = 0.3 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    tone = np.repeat(second[:, None], CHANNELS, axis=1).astype(np.float32)
    blocks = (tone[: frames - start] for start in range(0, frames, SAMPLE_RATE))
    write_wav(path, blocks, sample_rate=SAMPLE_RATE)


class MultipartStream:
    """A file-like multipart body that reads the file from disk as it is sent."""

    def __init__(self, path: Path, boundary: str) -> None:
        self._head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.length = len(self._head) + path.stat().st_size + len(self._tail)
        self._file = path.open("rb")

    def read(self, size: int = -1) -> bytes:
        size = size if size > 0 else 1 << 20
        if self._head:
            chunk, self._head = self._head[:size], self._head[size:]
            return chunk
        chunk = b"" if self._file.closed else self._file.read(size)
        if chunk:
            return chunk
        self._file.close()
        chunk, self._tail = self._tail[:size], self._tail[size:]
        return chunk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def worker_pid(master: int) -> int:
    for _ in range(100):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def upload(port: int, api_key: str, path: Path) -> tuple[int, dict[str, object], float]:
    boundary = "bench" + secrets.token_hex(8)
    body = MultipartStream(path, boundary)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=1 << 20)
    started = time.monotonic()
    connection.request(
        "POST",
        "/api/v1/media/",
        body=body,
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(body.length),
        },
    )
    response = connection.getresponse()
    payload = json.loads(response.read() or b"{}")
    elapsed = time.monotonic() - started
    connection.close()
    return response.status, payload, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[10, 100, 200])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="phonoglyph-bench-") as scratch:
        work = Path(scratch)
        (work / "media").mkdir()
        (work / "uploads").mkdir()
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(work / "media"),
            "FILE_UPLOAD_TEMP_DIR": str(work / "uploads"),
            "PHONOGLYPH_UPLOADS_PER_HOUR": "100",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        env.pop("AWS_STORAGE_BUCKET_NAME", None)
        env.pop("CLAMAV_URL", None)

        def manage(*command: str) -> str:
            return subprocess.run(
                [str(PYTHON), "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        manage("migrate", "--verbosity", "0")
        manage("createuser", "bench@example.com")
        api_key = manage("createapikey", "bench@example.com").splitlines()[-1]

        files = {}
        for size_mb in [1, *args.sizes_mb]:
            path = work / f"bench-{size_mb}mb.wav"
            write_wav_of_size(path, size_mb * MB)
            files[size_mb] = path

        port = free_port()
        server = subprocess.Popen(
            [
                str(GUNICORN),
                "phonoglyph.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pid = worker_pid(server.pid)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            # Warm-up: the first request imports the views, DRF and the validation code.
            status, _, _ = upload(port, api_key, files[1])
            if status != 201:
                print(f"warm-up upload failed with HTTP {status}", file=sys.stderr)
                return 1
            print(f"gunicorn worker pid {pid}; one sync worker; body streamed by the client")
            print(
                f"{'size':>8} {'status':>6} {'seconds':>8} {'rss before':>11} "
                f"{'peak rss':>9} {'growth':>8}"
            )
            worst = 0.0
            for size_mb in args.sizes_mb:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                before = proc_status_kb(pid, "VmRSS") / 1024
                status, payload, elapsed = upload(port, api_key, files[size_mb])
                peak = proc_status_kb(pid, "VmHWM") / 1024
                growth = peak - before
                worst = max(worst, growth)
                detail = "" if status == 201 else f"  {payload.get('code')}"
                print(
                    f"{size_mb:>5} MB {status:>6} {elapsed:>8.1f} {before:>8.1f} MB "
                    f"{peak:>6.1f} MB {growth:>5.1f} MB{detail}"
                )
            verdict = "OK" if worst < TARGET_GROWTH_MB else "OVER TARGET"
            print(f"largest peak growth {worst:.1f} MB (target < {TARGET_GROWTH_MB} MB): {verdict}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
