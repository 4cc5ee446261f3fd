"""Media fixtures: private storage in a temp dir, real audio, and real S3 and ClamAV servers."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.http import HttpResponse
from rest_framework.test import APIClient

from tests.conftest import REQUIRE_SERVICES
from tests.media.audio import EICAR, UPLOAD_EXTENSIONS, sine
from tests.support.audio import encode, silent_flac

# The S3 fixtures, for the media tests.
from tests.support.s3 import S3_STORAGE, S3Server, s3_server, s3_storage  # noqa: F401
from tests.support.workers import Worker, local_storage_worker

LOCAL_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def _missing(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@dataclass(frozen=True)
class MediaDirs:
    media_root: Path
    upload_temp: Path


@pytest.fixture(autouse=True)
def media_dirs(settings, tmp_path: Path) -> MediaDirs:
    """Local private storage and upload temp files in this test's own directories."""
    dirs = MediaDirs(media_root=tmp_path / "media", upload_temp=tmp_path / "upload-temp")
    dirs.media_root.mkdir()
    dirs.upload_temp.mkdir()
    settings.MEDIA_ROOT = dirs.media_root
    settings.FILE_UPLOAD_TEMP_DIR = str(dirs.upload_temp)
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL_STORAGE}
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.CLAMAV_URL = ""
    return dirs


@pytest.fixture(scope="session")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One second of a 440 Hz stereo sine in every accepted extension."""
    directory = tmp_path_factory.mktemp("audio")
    samples = sine(1.0)
    return {
        extension: encode(samples, directory / f"tone.{extension}").read_bytes()
        for extension in UPLOAD_EXTENSIONS
    }


@pytest.fixture(scope="session")
def three_hour_flac(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return silent_flac(3 * 3600, tmp_path_factory.mktemp("long") / "silence.flac").read_bytes()


def multipart(filename: str | bytes, content: bytes, *, field: str = "file") -> tuple[bytes, str]:
    """Encode one file part by hand, so the file name reaches the server byte for byte."""
    boundary = "phonoglyph" + secrets.token_hex(8)
    raw_name = filename.encode() if isinstance(filename, str) else filename
    body = (
        f"--{boundary}\r\n".encode()
        + f'Content-Disposition: form-data; name="{field}"; filename="'.encode()
        + raw_name
        + b'"\r\nContent-Type: text/html\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


Upload = Callable[..., HttpResponse]


@pytest.fixture
def upload(api_client: APIClient) -> Upload:
    """POST one file to /api/v1/media/ as `api_client`'s user."""

    def send(
        filename: str | bytes,
        content: bytes,
        *,
        client: APIClient | None = None,
        field: str = "file",
    ) -> HttpResponse:
        body, content_type = multipart(filename, content, field=field)
        response: HttpResponse = (client or api_client).generic(
            "POST",
            "/api/v1/media/",
            body,  # type: ignore[arg-type]  # Django sends bytes as is; the stub says str
            content_type=content_type,
        )
        return response

    return send


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Clamd:
    tcp_url: str
    unix_url: str


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """A real clamd on loopback and a Unix socket whose only signature is EICAR (written here)."""
    binary = shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else ""
    )
    if not binary:
        _missing("ClamAV tests need clamd (scripts/ci-system-packages installs it)")
    root = tmp_path_factory.mktemp("clamd")
    database = root / "db"
    database.mkdir()
    (database / "phonoglyph-test.ndb").write_text(f"Phonoglyph.Test.EICAR:0:*:{EICAR.hex()}\n")
    port = free_port()
    config = root / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"LocalSocket {root / 'clamd.sock'}",
                f"DatabaseDirectory {database}",
                f"PidFile {root / 'clamd.pid'}",
                f"LogFile {root / 'clamd.log'}",
                "StreamMaxLength 300M",
                "",
            ]
        )
    )
    log = (root / "clamd.out").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"zPING\0")
                    if sock.recv(16).startswith(b"PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("clamd did not start:\n" + (root / "clamd.out").read_text())
            time.sleep(0.2)
        yield Clamd(tcp_url=f"tcp://127.0.0.1:{port}", unix_url=f"unix://{root / 'clamd.sock'}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def preview_worker(postgres_url: str, redis_url: str, settings, tmp_path: Path) -> Iterator[Worker]:
    """A worker on the default queue only: no analysis or separation can run."""
    with local_storage_worker(
        name="previews", queue_name="celery", log_dir=tmp_path, redis_url=redis_url
    ) as started:
        yield started
