"""Cache-aside for rows that change rarely but must never be served stale after a change.

`cached_read` answers from Django's default cache (Redis in production, shared by every web
process) and fills it on a miss; `cache_evict` is called after a change commits. Eviction
does not delete: it leaves a marker for `timeout` seconds, and a reader only ever *adds* an
entry where there is none. That closes the race of cache-aside, where a reader that loaded
the row just before a change would otherwise write the old row back after the eviction:
its `add` finds the marker and stores nothing, and readers go to the database until the
marker expires. `timeout` must therefore exceed the time between a reader's load and its add,
and it bounds how long a change that no eviction reports (a bulk UPDATE, a manual edit in
the database) can go unseen.

When the cache is unreachable every read goes to the database (the source of truth), without
trying the cache again for a few seconds (`core.cache.shared_cache_get`), and a failed
eviction is logged: entries it should have removed expire within `timeout`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache

from core.cache import UNREACHABLE, shared_cache_failed, shared_cache_get, shared_cache_set

logger = logging.getLogger(__name__)

T = TypeVar("T")

EVICTED = "cache-aside:evicted"


def cached_read(key: str, load: Callable[[], T | None], *, timeout: float) -> T | None:
    """`load()`'s value under `key`, from the cache when there; None (not cached) when absent."""
    value = shared_cache_get(key)
    if value is not None and value != EVICTED:
        return value  # type: ignore[no-any-return]  # what load() stored under this key
    loaded = load()
    if loaded is not None and value is None:
        shared_cache_set(key, loaded, timeout=timeout, only_if_absent=True)
    return loaded


def cache_evict(keys: Iterable[str], *, timeout: float) -> None:
    """Stop `keys` being served from the cache for `timeout` seconds, from now on."""
    keys = list(keys)
    if not keys:
        return
    try:
        cache.set_many(dict.fromkeys(keys, EVICTED), timeout=timeout)
    except UNREACHABLE as error:
        shared_cache_failed(error)
        logger.warning("cache unreachable; %d entries expire on their own: %s", len(keys), error)
