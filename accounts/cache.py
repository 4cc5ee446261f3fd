"""Cached reads made on every API request: the API key presented (with its user) and a plan.

Each API request used to read its key and its plan from PostgreSQL; both are now read through
`core.cache_aside` from the shared cache. Every change that goes through the ORM evicts at
once, for every web process: saving or deleting a key, its user or a plan (signals, since
the admin and cascading deletes change them too), and revoking keys (`api_key_revoke`, a bulk
UPDATE, evicts explicitly). A change made any other way is seen within CACHE_SECONDS. The
user's password hash is never cached (the key is loaded with it deferred).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from accounts.models import ApiKey, Plan, User
from core.cache_aside import cache_evict, cached_read

# Also how late a key's last_used_at can be: a hit does not write it (accounts.services).
CACHE_SECONDS = 30


def _api_key_key(key_hash: str) -> str:
    return f"accounts:v1:api-key:{key_hash}"


def _plan_key(plan_id: int | None) -> str:
    return f"accounts:v1:plan:{plan_id if plan_id is not None else 'free'}"


def api_key_cached(key_hash: str, load: Callable[[], ApiKey | None]) -> ApiKey | None:
    """The key (its user loaded) with hash `key_hash`, from the cache or `load()`."""
    return cached_read(_api_key_key(key_hash), load, timeout=CACHE_SECONDS)


def plan_cached(plan_id: int | None, load: Callable[[], Plan]) -> Plan:
    """Plan `plan_id` (None: the free plan), from the cache or `load()`."""
    plan = cached_read(_plan_key(plan_id), load, timeout=CACHE_SECONDS)
    return plan if plan is not None else load()


def api_keys_evict(key_hashes: Iterable[str]) -> None:
    """Stop serving these keys from the cache, now and again once the transaction commits."""
    keys = [_api_key_key(key_hash) for key_hash in key_hashes]
    cache_evict(keys, timeout=CACHE_SECONDS)
    transaction.on_commit(lambda: cache_evict(keys, timeout=CACHE_SECONDS))


def _plan_evict(plan: Plan) -> None:
    # The free plan is also cached under "free" for users without a plan.
    keys = [_plan_key(plan.pk), _plan_key(None)]
    cache_evict(keys, timeout=CACHE_SECONDS)
    transaction.on_commit(lambda: cache_evict(keys, timeout=CACHE_SECONDS))


def _api_key_changed(
    sender: type[ApiKey], instance: ApiKey, created: bool = False, **kwargs: Any
) -> None:
    # Nothing can be cached yet for a new row.
    if not created:
        api_keys_evict([instance.key_hash])


def _user_changed(sender: type[User], instance: User, created: bool = False, **kwargs: Any) -> None:
    if not created:
        keys = ApiKey.objects.filter(user_id=instance.pk)
        api_keys_evict(keys.values_list("key_hash", flat=True))


def _plan_changed(sender: type[Plan], instance: Plan, **kwargs: Any) -> None:
    _plan_evict(instance)


def accounts_cache_connect() -> None:
    for model, receiver, name in (
        (ApiKey, _api_key_changed, "api-key"),
        (User, _user_changed, "user"),
        (Plan, _plan_changed, "plan"),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"accounts-cache-save-{name}")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"accounts-cache-delete-{name}")
