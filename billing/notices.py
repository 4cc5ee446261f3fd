"""Who hears that a user's credits ran low: a registry of listeners billing calls, knowing none.

Billing knows no consumer. A package that tells users about their balance (the webhooks)
registers a listener from its AppConfig.ready(). After a ledger change commits, billing reads
the user's available balance; when it fell below PHONOGLYPH_CREDITS_LOW_THRESHOLD it tells the
listeners once, and again only after the balance went back up to the threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from billing.models import CreditAccount
from core.cache import UNREACHABLE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreditsLow:
    user_id: int
    available: int
    threshold: int


CreditsLowListener = Callable[[CreditsLow], None]

_LISTENERS: dict[str, CreditsLowListener] = {}


def credits_low_listener_register(name: str, listener: CreditsLowListener) -> None:
    """Call `listener` whenever a balance falls below the threshold; a name again replaces it."""
    _LISTENERS[name] = listener


def credits_low_check(*, user_id: int, available: int | None = None) -> None:
    """Tell the listeners if `user_id`'s balance just fell below the threshold.

    Called after the ledger change committed, with the `available` credits it left when the
    change knows them (else they are read). The marker is set with cache.add, atomic even
    across processes on Redis: of two changes racing below the threshold, one notifies.
    """
    threshold = settings.PHONOGLYPH_CREDITS_LOW_THRESHOLD
    if threshold <= 0 or not _LISTENERS:
        return
    if available is None:
        account = CreditAccount.objects.filter(user_id=user_id).first()
        if account is None:
            return
        available = account.available
    marker = f"billing:credits-low:{user_id}"
    try:
        if available >= threshold:
            cache.delete(marker)
            return
        if not cache.add(marker, 1, timeout=None):
            return
    except UNREACHABLE as error:
        # Without the marker every change below the threshold would notify again; the change
        # itself is committed and must not fail for a notice.
        logger.warning("cache unreachable; no credits-low notice for user %s: %s", user_id, error)
        return
    notice = CreditsLow(user_id=user_id, available=available, threshold=threshold)
    for name, listener in list(_LISTENERS.items()):
        try:
            listener(notice)
        except Exception:
            # A consumer's fault must not fail the ledger change that already committed.
            logger.exception("Credits-low listener %r failed for user %s", name, user_id)
