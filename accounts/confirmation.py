"""Email confirmation at sign-up: the signed link, and confirming the account it names.

A new account cannot log in until its owner opens the link mailed at sign-up. The link holds
a `django.core.signing` token: signed with SECRET_KEY, valid PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE
seconds, bound to the account's email and password hash (a password change kills older links)
and single-use, since confirming sets `email_confirmed_at` and a confirmed account's link is
refused.

Packages above accounts hear of a confirmation through a registry of listeners called after
the confirmation commits (billing opens the credit account with the sign-up bonus then), so
an unconfirmed sign-up holds no credits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User
from telemetry.reporting import emit_event

logger = logging.getLogger(__name__)

CONFIRMATION_SALT = "accounts.confirmation.signup"

RefusalReason = Literal["expired", "used", "invalid"]
UserConfirmedListener = Callable[[User], object]

_LISTENERS: dict[str, UserConfirmedListener] = {}


class ConfirmationLinkRefused(Exception):
    """The link confirms nothing: it is `expired`, already `used`, or `invalid` (forged)."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(f"Confirmation link refused: {reason}.")
        self.reason: RefusalReason = reason


def _account_state(user: User) -> str:
    return salted_hmac(CONFIRMATION_SALT, f"{user.email}|{user.password}").hexdigest()[:32]


def confirmation_token_make(*, user: User) -> str:
    """Return the token of `user`'s confirmation link, valid from now on for the max age."""
    return signing.dumps({"user": user.pk, "state": _account_state(user)}, salt=CONFIRMATION_SALT)


def confirmation_user_get(*, token: str) -> User:
    """Return the unconfirmed user `token` confirms; raise ConfirmationLinkRefused otherwise."""
    try:
        payload = signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=settings.PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE
        )
    except signing.SignatureExpired as expired:
        raise ConfirmationLinkRefused("expired") from expired
    except signing.BadSignature as forged:
        raise ConfirmationLinkRefused("invalid") from forged
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        raise ConfirmationLinkRefused("invalid")
    user = User.objects.filter(pk=payload["user"]).first()
    if user is None or not constant_time_compare(
        str(payload.get("state", "")), _account_state(user)
    ):
        raise ConfirmationLinkRefused("invalid")
    if user.is_email_confirmed:
        raise ConfirmationLinkRefused("used")
    return user


def user_confirmed_listener_register(name: str, listener: UserConfirmedListener) -> None:
    """Call `listener` with each user whose email gets confirmed; a name again replaces it."""
    _LISTENERS[name] = listener


def user_email_confirm(*, user: User) -> bool:
    """Mark `user`'s email confirmed; return False when it already was.

    The conditional UPDATE touches one row or none: of two requests racing with the same link,
    only one confirms. Once that commits, the `user_signed_up` event goes out and the
    listeners are called; a listener's failure is logged and never undoes the confirmation.
    """
    now = timezone.now()
    with transaction.atomic():
        confirmed = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
            email_confirmed_at=now
        )
        if not confirmed:
            return False
        user.email_confirmed_at = now
        transaction.on_commit(lambda: _announce(user))
    return True


def _announce(user: User) -> None:
    emit_event("user_signed_up", user_id=user.pk, properties={"method": "form"})
    for name, listener in list(_LISTENERS.items()):
        try:
            listener(user)
        except Exception:
            # The owner is confirmed whatever a consumer does with the news.
            logger.exception("User-confirmed listener %r failed for user %s", name, user.pk)
