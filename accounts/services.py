"""State changes for users and API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.cache import api_key_cached, api_keys_evict
from accounts.models import ApiKey, User
from core.api.exceptions import DomainError

API_KEY_PREFIX = "phg_"
API_KEY_DISPLAY_LENGTH = 12
# last_used_at is advisory; writing it on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key: `raw` is the only time the secret exists outside the caller's hands."""

    api_key: ApiKey
    raw: str


def api_key_hash(raw: str) -> str:
    """Hash a raw key. Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced."""
    return hashlib.sha256(raw.encode()).hexdigest()


def user_create(
    *, email: str, password: str | None = None, is_staff: bool = False, confirmed: bool = True
) -> User:
    """Create a user; without a password the account can only log in after a reset.

    An unconfirmed user (sign-up) logs in only once the link mailed to it is opened
    (accounts.confirmation); every other caller vouches for the address itself.
    """
    if confirmed:
        return User.objects.create_user(email=email, password=password, is_staff=is_staff)
    return User.objects.create_user(
        email=email, password=password, is_staff=is_staff, email_confirmed_at=None
    )


class ApiKeyScopeMissing(DomainError):
    """The authenticating API key lacks the scope this action needs."""

    code = "api_key_scope_missing"
    status = 403


class ApiKeyInvalid(DomainError):
    code = "invalid_api_key_request"
    status = 400


class EmailUnconfirmed(DomainError):
    """The account's email is not confirmed yet, so it may not log in nor hold API keys."""

    code = "email_unconfirmed"
    status = 403


def api_key_create(
    *,
    user: User,
    name: str = "",
    scopes: Sequence[str] = (),
    expires_at: datetime | None = None,
    created_by: ApiKey | None = None,
) -> CreatedApiKey:
    """Create an API key for `user` and return it with its raw secret.

    `created_by` is the API key making the request (None for a session, the admin or a
    command): it needs the `api_keys` scope, cannot grant scopes it lacks nor outlive its own
    expiry, and revoking it revokes the new key. Raises ApiKeyScopeMissing or ApiKeyInvalid,
    and EmailUnconfirmed for a user who has not confirmed the sign-up email.
    """
    if not user.is_email_confirmed:
        raise EmailUnconfirmed("Confirm your email first: open the link mailed at sign-up.")
    unknown = sorted(set(scopes) - set(ApiKey.Scope.values))
    if unknown:
        raise ApiKeyInvalid(f"Unknown scopes: {', '.join(unknown)}.", extra={"scopes": unknown})
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ApiKeyInvalid("The expiry must be in the future.")
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if created_by is not None:
            # Locked so that a concurrent revocation of the parent either sees this child or
            # makes this creation fail: no child can outlive its parent.
            parent = ApiKey.objects.select_for_update().filter(pk=created_by.pk).first()
            if parent is None or not parent.is_active:
                raise ApiKeyScopeMissing("The API key making this request is no longer active.")
            if not parent.has_scope(ApiKey.Scope.API_KEYS):
                raise ApiKeyScopeMissing("This API key may not create API keys.")
            beyond = sorted(set(scopes) - set(parent.scopes))
            if beyond:
                raise ApiKeyScopeMissing(
                    f"This API key cannot grant scopes it does not have: {', '.join(beyond)}."
                )
            if parent.expires_at is not None:
                expires_at = min(expires_at or parent.expires_at, parent.expires_at)
        api_key = ApiKey.objects.create(
            user=user,
            name=name.strip()[:100],
            prefix=raw[:API_KEY_DISPLAY_LENGTH],
            key_hash=api_key_hash(raw),
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
            parent=created_by,
        )
    return CreatedApiKey(api_key=api_key, raw=raw)


def api_key_revoke(*, user: User, public_id: UUID, revoked_by: ApiKey | None = None) -> bool:
    """Revoke the key of `user`'s with this public id and every key minted from it.

    Return False when it is not theirs or already revoked. An API key (`revoked_by`) may
    revoke itself; other keys only with the `api_keys` scope, and only keys it minted
    (directly or not). Raises ApiKeyScopeMissing otherwise.
    """
    api_key_id = (
        ApiKey.objects.filter(public_id=public_id, user=user).values_list("pk", flat=True).first()
    )
    if api_key_id is None:
        return False
    if revoked_by is not None and revoked_by.pk != api_key_id:
        if not revoked_by.has_scope(ApiKey.Scope.API_KEYS):
            raise ApiKeyScopeMissing("This API key may not revoke API keys.")
        if api_key_id not in _api_key_descendants(root_id=revoked_by.pk):
            return False
    now = timezone.now()
    with transaction.atomic():
        # The lock orders this against api_key_create minting a child of the same key.
        target = (
            ApiKey.objects.select_for_update()
            .filter(pk=api_key_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if target is None:
            return False
        doomed = {target.pk} | _api_key_descendants(root_id=target.pk)
        ApiKey.objects.filter(pk__in=doomed, revoked_at__isnull=True).update(revoked_at=now)
        # A bulk UPDATE sends no signal: without this, every web process would go on
        # accepting the keys from the cache.
        api_keys_evict(ApiKey.objects.filter(pk__in=doomed).values_list("key_hash", flat=True))
    return True


def _api_key_descendants(*, root_id: int) -> set[int]:
    found: set[int] = set()
    frontier = {root_id}
    while frontier:
        frontier = (
            set(ApiKey.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        )
        found |= frontier
    return found


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """Return the active, unexpired key `raw` of an active user, recording its use; else None.

    The key and its user come from the shared cache (accounts.cache), which every change to
    them evicts; last_used_at is written when the key is read from the database, so it lags
    real use by at most LAST_USED_RESOLUTION plus the cache's lifetime.
    """
    if not raw.startswith(API_KEY_PREFIX):
        return None
    key_hash = api_key_hash(raw)
    api_key = api_key_cached(key_hash, lambda: _api_key_load(key_hash=key_hash))
    # A cached key can expire while it sits in the cache.
    if api_key is None or not api_key.is_active or not api_key.user.is_active:
        return None
    return api_key


def _api_key_load(*, key_hash: str) -> ApiKey | None:
    now = timezone.now()
    api_key = (
        ApiKey.objects.select_related("user")
        # The key and its user go to the shared cache; the password hash stays out of it (and
        # a save of the user then leaves the password alone).
        .defer("user__password")
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if api_key is None:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
