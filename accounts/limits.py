"""Limits that bound what log-in, sign-up and password reset cost us, whoever sends them.

Log-in has four, checked before any password is hashed:

- failures per IP and email (PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE), against guessing one
  account's password from one address;
- attempts per IP across emails (PHONOGLYPH_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE), counted before
  the hash so that a burst of concurrent requests is bounded too: spraying one password over
  many accounts, or making the server hash for unknown emails;
- failures per email across IPs (PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR), against a
  botnet on one account. Past it, only a browser the account logged in from before (a signed
  "known device" cookie) may still try, so an attacker cannot lock the owner out;
- at most PHONOGLYPH_LOGIN_CONCURRENT_HASHES password hashes at once on a host, across every
  process (file locks the kernel releases when a process dies): the other workers keep serving.

The counters are django-ratelimit's in the cache. Sign-up and password reset are limited per
IP and per email the same way.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django_ratelimit.core import get_usage

KNOWN_DEVICE_COOKIE = "phonoglyph_device"
KNOWN_DEVICE_SALT = "accounts.limits.known-device"
KNOWN_DEVICE_MAX_AGE = 365 * 24 * 3600
# A shared browser may know a few accounts; older ones drop off.
KNOWN_DEVICE_MAX_ACCOUNTS = 5
BUSY_RETRY_AFTER_SECONDS = 2


class RateLimited(Exception):
    """Too many attempts; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, what: str = "attempts") -> None:
        super().__init__(f"Too many {what}; retry after {retry_after} s.")
        self.retry_after = retry_after


class LoginThrottled(RateLimited):
    """Too many log-in attempts from this IP, or failures for this email."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after, "failed log-ins")


class LoginBusy(Exception):
    """Every password-hashing slot is taken; the caller should answer 503."""

    retry_after = BUSY_RETRY_AFTER_SECONDS


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get(settings.RATELIMIT_IP_META_KEY, "") or "unknown")


def _normalized(email: str) -> str:
    return email.strip().lower()


def _hit(*, request: HttpRequest, group: str, identity: str, rate: str, increment: bool) -> int:
    """Return the seconds to wait when `identity` is over `rate` in `group`, else 0."""
    usage = get_usage(
        request,
        group=group,
        key=lambda _group, _request: identity,
        rate=rate,
        increment=increment,
    )
    if usage is None:
        return 0
    over = usage["should_limit"] if increment else usage["count"] >= usage["limit"]
    return max(1, int(usage["time_left"])) if over else 0


def login_throttle_check(*, request: HttpRequest, email: str) -> None:
    """Count one log-in attempt from this IP; raise LoginThrottled when a limit is reached."""
    email = _normalized(email)
    ip = client_ip(request)
    waits = [
        _hit(
            request=request,
            group="accounts.login-failures",
            identity=f"{ip}|{email}",
            rate=f"{settings.PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE}/m",
            increment=False,
        )
    ]
    if not _known_device(request=request, email=email):
        waits.append(
            _hit(
                request=request,
                group="accounts.login-failures-email",
                identity=email,
                rate=f"{settings.PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR}/h",
                increment=False,
            )
        )
    if not any(waits):
        waits.append(
            _hit(
                request=request,
                group="accounts.login-attempts-ip",
                identity=ip,
                rate=f"{settings.PHONOGLYPH_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE}/m",
                increment=True,
            )
        )
    if any(waits):
        raise LoginThrottled(retry_after=max(waits))


def login_failure_record(*, request: HttpRequest, email: str) -> None:
    """Count one failed log-in for this IP+email and for this email (atomic cache increments)."""
    email = _normalized(email)
    _hit(
        request=request,
        group="accounts.login-failures",
        identity=f"{client_ip(request)}|{email}",
        rate=f"{settings.PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE}/m",
        increment=True,
    )
    _hit(
        request=request,
        group="accounts.login-failures-email",
        identity=email,
        rate=f"{settings.PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR}/h",
        increment=True,
    )


@contextmanager
def password_hash_slot() -> Iterator[None]:
    """Hold one of the host's password-hashing slots for the block; raise LoginBusy if none.

    A slot is an exclusive lock on a file: it holds across processes and threads and is
    released by the kernel if the holder dies. Nobody waits for a slot, since a waiting
    request would pin its worker just the same.
    """
    directory = Path(settings.PHONOGLYPH_LOCK_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(settings.PHONOGLYPH_LOGIN_CONCURRENT_HASHES):
        descriptor = os.open(
            directory / f"password-hash-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        return
    raise LoginBusy()


def _device_tokens(request: HttpRequest) -> list[str]:
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE
    )
    return [token for token in str(value).split(",") if token]


def _device_token(email: str) -> str:
    # Keyed with SECRET_KEY: the cookie must not tell a reader which emails it stands for.
    return salted_hmac(KNOWN_DEVICE_SALT, email).hexdigest()[:24]


def _known_device(*, request: HttpRequest, email: str) -> bool:
    return _device_token(email) in _device_tokens(request)


def known_device_remember(*, request: HttpRequest, response: HttpResponse, email: str) -> None:
    """Mark this browser as one `email` logged in from, on `response`."""
    token = _device_token(_normalized(email))
    tokens = [token, *(known for known in _device_tokens(request) if known != token)]
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        ",".join(tokens[:KNOWN_DEVICE_MAX_ACCOUNTS]),
        salt=KNOWN_DEVICE_SALT,
        max_age=KNOWN_DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def signup_limit_check(*, request: HttpRequest, email: str) -> None:
    """Count one sign-up; raise RateLimited past the hourly limits per IP or per email."""
    _limit_per_ip_and_email(
        request=request,
        email=email,
        group="accounts.signup",
        per_ip=settings.PHONOGLYPH_SIGNUPS_PER_IP_PER_HOUR,
        per_email=settings.PHONOGLYPH_SIGNUPS_PER_EMAIL_PER_HOUR,
        what="sign-ups",
    )


def password_reset_limit_check(*, request: HttpRequest, email: str) -> None:
    """Count one reset request; raise RateLimited past the hourly limits per IP or per email."""
    _limit_per_ip_and_email(
        request=request,
        email=email,
        group="accounts.password-reset",
        per_ip=settings.PHONOGLYPH_PASSWORD_RESETS_PER_IP_PER_HOUR,
        per_email=settings.PHONOGLYPH_PASSWORD_RESETS_PER_EMAIL_PER_HOUR,
        what="password reset requests",
    )


def _limit_per_ip_and_email(
    *, request: HttpRequest, email: str, group: str, per_ip: int, per_email: int, what: str
) -> None:
    waits = [
        _hit(
            request=request,
            group=f"{group}-ip",
            identity=client_ip(request),
            rate=f"{per_ip}/h",
            increment=True,
        ),
        _hit(
            request=request,
            group=f"{group}-email",
            identity=_normalized(email),
            rate=f"{per_email}/h",
            increment=True,
        ),
    ]
    if any(waits):
        raise RateLimited(retry_after=max(waits), what=what)
