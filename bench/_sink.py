"""A loopback HTTP sink standing in for the Sentry and PostHog hosts, run as its own process.

It runs outside the benchmarked process so that parsing the SDKs' posts does not compete with
the request thread for the interpreter lock (a real Sentry or PostHog host is another machine),
and it speaks HTTP/1.1 with keep-alive, as those hosts do, so the SDKs reuse their connections.
`GET /` answers with the number of posts received so far; `GET /transactions` with the number
of Sentry transactions among them.

Usage: python bench/_sink.py   (prints the port it listens on, then serves until killed)
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sentry_sdk.envelope import Envelope

_received = 0
_transactions = 0
_received_lock = threading.Lock()


class SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The reply goes out as two writes (head, body); with Nagle's algorithm the body waits for
    # the client's delayed ACK of the head, about 40 ms, which capped a keep-alive client at
    # about 25 posts a second. A real host answers at once.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        global _received, _transactions
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with _received_lock:
            _received += 1
            if self.path.endswith("/envelope/"):
                envelope = Envelope.deserialize(body)
                _transactions += sum(item.type == "transaction" for item in envelope.items)
        self._reply(b"{}")

    def do_GET(self) -> None:
        self._reply(str(_transactions if self.path == "/transactions" else _received).encode())

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class SinkProcess:
    """Start the sink in a child process; `port`, `received()` and `stop()` drive it."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())

    def received(self) -> int:
        return self._count("/")

    def transactions(self) -> int:
        return self._count("/transactions")

    def _count(self, path: str) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            return int(response.read())

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=5)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SinkHandler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
