"""A cache that keeps answering from process memory while its shared primary is unreachable.

The rate limits count in the cache. With Redis down, django-ratelimit would raise its
connection error and turn every log-in and upload into a 500. `ResilientCache` forwards each
call to the primary cache alias named in LOCATION and, when that raises a connection error,
answers from a local-memory cache instead for RETRY_SECONDS before trying the primary again.
Limits then hold per process rather than per deployment: looser by the number of processes,
but still bounded, and the site stays up. `/readyz` keeps reporting the cache as down.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis.exceptions
from django.core.cache import caches
from django.core.cache.backends import redis as redis_backend
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
DEFAULT_RETRY_SECONDS = 5.0

# Per primary: when to try it again. Django builds one cache object per thread, so this is
# module state shared by all of a process's threads.
_down_until: dict[str, float] = {}
_state_lock = threading.Lock()


def _state_key(alias: str) -> str:
    # Named after the location, so a cache pointed elsewhere (a test, say) starts afresh.
    return f"{alias}|{caches.settings[alias].get('LOCATION')}"


def _resting(alias: str) -> bool:
    return time.monotonic() < _down_until.get(_state_key(alias), 0.0)


def _mark_down(alias: str, retry_seconds: float) -> bool:
    """Rest cache `alias` for `retry_seconds`; True when it was in use until now."""
    key = _state_key(alias)
    with _state_lock:
        was_up = time.monotonic() >= _down_until.get(key, 0.0)
        _down_until[key] = time.monotonic() + retry_seconds
    return was_up


def shared_cache_failed(error: BaseException) -> None:
    """Note that the default cache is unreachable: the calls below skip it for a rest.

    A Redis that drops packets would otherwise cost every call its socket timeout.
    """
    if _mark_down("default", DEFAULT_RETRY_SECONDS):
        logger.warning(
            "cache unreachable, reading the sources for %.0f s: %s", DEFAULT_RETRY_SECONDS, error
        )


def shared_cache_get(key: str) -> Any:
    """The default cache's value under `key`; None when absent or the cache is unreachable."""
    if _resting("default"):
        return None
    try:
        return caches["default"].get(key)
    except UNREACHABLE as error:
        shared_cache_failed(error)
        return None


def shared_cache_set(key: str, value: Any, *, timeout: float, only_if_absent: bool = False) -> None:
    """Store `value` under `key` in the default cache (`add` when `only_if_absent`), or
    nothing while it is unreachable."""
    if _resting("default"):
        return
    cache = caches["default"]
    try:
        if only_if_absent:
            cache.add(key, value, timeout=timeout)
        else:
            cache.set(key, value, timeout=timeout)
    except UNREACHABLE as error:
        shared_cache_failed(error)


class ResilientCache(BaseCache):
    """Forward to the cache alias in LOCATION; fall back to process memory when it is down."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._primary = location or "default"
        self._retry_seconds = float(options.get("RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        self._fallback = LocMemCache(
            f"resilient:{_state_key(self._primary)}", {"OPTIONS": {"MAX_ENTRIES": 10_000}}
        )

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not _resting(self._primary):
            try:
                return getattr(caches[self._primary], method)(*args, **kwargs)
            except UNREACHABLE as error:
                _mark_down(self._primary, self._retry_seconds)
                logger.warning(
                    "cache %r unreachable, counting in process memory for %.0f s: %s",
                    self._primary,
                    self._retry_seconds,
                    error,
                )
        return getattr(self._fallback, method)(*args, **kwargs)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return bool(self._call("add", key, value, timeout=timeout, version=version))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", key, default=default, version=version)

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return bool(self._call("touch", key, timeout=timeout, version=version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("delete", key, version=version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return int(self._call("incr", key, delta=delta, version=version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("has_key", key, version=version))

    def clear(self) -> None:
        self._fallback.clear()
        self._call("clear")


class _ReusingRedisCacheClient(redis_backend.RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every cache call, which costs about as much CPU as
    the GET itself; the object is thread-safe and holds no state besides its pool.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = super().get_client(key, write=write)
        return client


class RedisCache(redis_backend.RedisCache):
    """Django's Redis cache without the per-call client construction (see above)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingRedisCacheClient
