"""The header's notifications item: the unread count, and how often the page asks again."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.models import User
from notifications.selectors import notification_unread_count


def notifications_header(request: HttpRequest) -> dict[str, int | float]:
    """Template context processor: `notifications_unread` and `notifications_poll_seconds`."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {
        "notifications_unread": notification_unread_count(user=user),
        "notifications_poll_seconds": settings.PHONOGLYPH_NOTIFICATIONS_POLL_SECONDS,
    }
