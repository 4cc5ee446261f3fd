"""A reader that loaded a row before it changed never puts the old row back in the cache."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from django.core.cache import cache

from core.cache_aside import cache_evict, cached_read


def test_a_read_racing_an_eviction_does_not_cache_the_old_value() -> None:
    def load_then_change() -> str:
        # The row is read, then changed and evicted by someone else before this reader stores it.
        cache_evict(["row"], timeout=30)
        return "old"

    assert cached_read("row", load_then_change, timeout=30) == "old"
    assert cached_read("row", lambda: "new", timeout=30) == "new"


def test_after_an_eviction_readers_see_the_new_value_until_it_is_cached_again() -> None:
    assert cached_read("row", lambda: "old", timeout=30) == "old"
    assert cached_read("row", lambda: "unused", timeout=30) == "old"
    cache_evict(["row"], timeout=30)
    assert cached_read("row", lambda: "new", timeout=30) == "new"
    assert cache.get("row") != "old"


def test_absent_rows_are_not_cached() -> None:
    assert cached_read("row", lambda: None, timeout=30) is None
    assert cached_read("row", lambda: "created", timeout=30) == "created"


def test_an_unreachable_cache_reads_the_database(unreachable_redis) -> None:
    assert cached_read("row", lambda: "from the database", timeout=30) == "from the database"
    cache_evict(["row"], timeout=30)


class _SilentServer:
    """Accepts connections and never answers, as a Redis behind a dropping network looks."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.accepted.append(self.listener.accept()[0])

    def close(self) -> None:
        for connection in self.accepted:
            connection.close()
        self.listener.close()


def test_a_cache_that_stops_answering_is_rested_instead_of_waited_for_on_every_read(
    settings: Any,
) -> None:
    server = _SilentServer()
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    try:
        assert cached_read("row", lambda: "first", timeout=30) == "first"
        tried = len(server.accepted)
        reads = [cached_read("row", lambda: "again", timeout=30) for _ in range(5)]
        assert reads == ["again"] * 5
        assert tried >= 1
        assert len(server.accepted) == tried
    finally:
        server.close()
