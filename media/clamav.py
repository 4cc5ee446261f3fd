"""A ClamAV daemon client speaking the INSTREAM command over TCP or a Unix socket.

Contract: `clamav_scan` streams a file to clamd in chunks and returns the signature name when
clamd reports the stream infected, or None when it reports it clean. Anything else (no daemon,
a timeout, an error reply such as the stream exceeding clamd's StreamMaxLength) raises
`ClamavError`: the caller decides to fail closed.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from urllib.parse import urlsplit

CHUNK_BYTES = 64 * 1024
MAX_REPLY_BYTES = 4096


class ClamavError(Exception):
    """clamd could not be reached or did not give a verdict."""


def _connect(url: str, timeout: float) -> socket.socket:
    parts = urlsplit(url)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    if parts.scheme == "unix" and parts.path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(parts.path)
        except OSError:
            sock.close()
            raise
        return sock
    raise ClamavError("CLAMAV_URL must look like tcp://host:port or unix:///path/to/clamd.sock")


def _read_reply(sock: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < MAX_REPLY_BYTES:
        chunk = sock.recv(MAX_REPLY_BYTES)
        if not chunk:
            break
        reply += chunk
    return reply.rstrip(b"\0").decode("utf-8", errors="replace").strip()


def clamav_scan(*, url: str, path: Path, timeout: float) -> str | None:
    """Scan `path` with the clamd at `url`; return the signature found, or None when clean.

    Raises ClamavError when there is no verdict. `timeout` bounds each socket operation.
    """
    try:
        with _connect(url, timeout) as sock, path.open("rb") as stream:
            # The "z" prefix makes clamd expect NUL-terminated commands and replies.
            sock.sendall(b"zINSTREAM\0")
            while chunk := stream.read(CHUNK_BYTES):
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            reply = _read_reply(sock)
    except OSError as error:
        raise ClamavError(f"clamd at {url} is unreachable: {error}") from error
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply.removeprefix("stream: ").removesuffix(" FOUND")
    raise ClamavError(f"clamd gave no verdict: {reply or 'empty reply'}")
