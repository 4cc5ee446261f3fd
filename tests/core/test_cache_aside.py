"""A reader that loaded a row before it changed never puts the old row back in the cache."""

from __future__ import annotations

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
