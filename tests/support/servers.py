"""A loopback HTTP server standing in for Sentry, PostHog, Slack and the alert webhook.

It records every request (decompressed) and answers with a chosen status.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def envelope_items(self) -> list[tuple[dict[str, Any], Any]]:
        """Parse a Sentry envelope: a header line, then (item header, payload) pairs."""
        lines = self.body.split(b"\n")
        items: list[tuple[dict[str, Any], Any]] = []
        index = 1
        while index + 1 < len(lines):
            if not lines[index].strip():
                index += 1
                continue
            header = json.loads(lines[index])
            payload = lines[index + 1]
            try:
                items.append((header, json.loads(payload)))
            except ValueError:
                items.append((header, payload))
            index += 2
        return items


@dataclass
class RecordingServer:
    """Keeps every POST and answers `status` (change it to make the endpoint fail)."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> RecordingServer:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                with recorder.lock:
                    recorder.received.append(
                        Received("POST", self.path, dict(self.headers.items()), body)
                    )
                    status = recorder.status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": 1}' if status < 300 else b'{"error": "refused"}')

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def bodies(self) -> list[Any]:
        """The JSON body of every request, in arrival order."""
        with self.lock:
            return [item.json() for item in self.received]

    def requests_to(self, prefix: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.path.startswith(prefix)]

    def wait_for(self, predicate: Callable[[RecordingServer], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"nothing matching arrived within {timeout} s: {self.received!r}")

    def sentry_events(self) -> list[dict[str, Any]]:
        return self.sentry_items("event")

    def sentry_items(self, item_type: str) -> list[dict[str, Any]]:
        """Payloads of the envelope items of `item_type` ("event", "transaction", ...)."""
        items: list[dict[str, Any]] = []
        for request in self.requests_to("/api/"):
            for header, payload in request.envelope_items():
                if header.get("type") == item_type:
                    items.append(payload)
        return items

    def posthog_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for request in self.requests_to("/batch"):
            events.extend(request.json()["batch"])
        return events
