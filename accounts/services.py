"""State changes for users and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage

from accounts.models import ApiKey, User

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


def user_create(*, email: str, password: str | None = None, is_staff: bool = False) -> User:
    """Create a user; without a password the account can only log in after a reset."""
    return User.objects.create_user(email=email, password=password, is_staff=is_staff)


def api_key_create(*, user: User, name: str = "") -> CreatedApiKey:
    """Create an API key for `user` and return it with its raw secret."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=raw[:API_KEY_DISPLAY_LENGTH],
        key_hash=api_key_hash(raw),
    )
    return CreatedApiKey(api_key=api_key, raw=raw)


def api_key_revoke(*, user: User, api_key_id: int) -> bool:
    """Revoke one of `user`'s keys; return False when it is not theirs or already revoked."""
    updated = ApiKey.objects.filter(pk=api_key_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return updated == 1


def api_key_authenticate(*, raw: str) -> User | None:
    """Return the active user owning the active key `raw`, recording its use; else None."""
    if not raw.startswith(API_KEY_PREFIX):
        return None
    api_key = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=api_key_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.user


class LoginThrottled(Exception):
    """Too many failed log-ins for this IP and email; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed log-ins; retry after {retry_after} s.")
        self.retry_after = retry_after


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get(settings.RATELIMIT_IP_META_KEY, "") or "unknown")


def _login_failure_usage(
    *, request: HttpRequest, email: str, increment: bool
) -> dict[str, int | bool]:
    limit = settings.PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE
    identity = f"{_client_ip(request)}|{email.strip().lower()}"
    usage = get_usage(
        request,
        group="accounts.login-failures",
        key=lambda _group, _request: identity,
        rate=f"{limit}/m",
        increment=increment,
    )
    return usage or {"count": 0, "limit": limit, "should_limit": False, "time_left": 0}


def login_throttle_check(*, request: HttpRequest, email: str) -> None:
    """Raise LoginThrottled when this IP+email already used up its failed log-ins."""
    usage = _login_failure_usage(request=request, email=email, increment=False)
    if int(usage["count"]) >= int(usage["limit"]):
        raise LoginThrottled(retry_after=max(1, int(usage["time_left"])))


def login_failure_record(*, request: HttpRequest, email: str) -> None:
    """Count one failed log-in for this IP+email (an atomic cache increment)."""
    _login_failure_usage(request=request, email=email, increment=True)
