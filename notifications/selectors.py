"""Every read of notifications, scoped to the user they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User
from notifications.models import Notification, NotificationPreference

# The newest notifications the page lists and the poll hands back at most.
LIST_LIMIT = 50
NEWER_LIMIT = 10


@dataclass(frozen=True)
class NotificationItem:
    """One notification as the pages and their poll show it; `url` opens it (marking it read)."""

    id: int
    title: str
    body: str
    outcome: str
    url: str
    created_at: datetime
    read: bool


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(owner=user, read_at__isnull=True).count()


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    """The newest LIST_LIMIT notifications of `user`, newest first."""
    return Notification.objects.filter(owner=user).order_by("-created_at", "-id")[:LIST_LIMIT]


def notification_items_newer_for_user(*, user: User, after_id: int) -> list[NotificationItem]:
    """`user`'s unread notifications made after the one numbered `after_id`, oldest first."""
    rows = Notification.objects.filter(owner=user, pk__gt=after_id, read_at__isnull=True)
    newest = list(rows.order_by("-id")[:NEWER_LIMIT])
    return [notification_item(notification) for notification in reversed(newest)]


def notification_latest_id(*, user: User) -> int:
    """The number of `user`'s newest notification, 0 without any: what a page has seen."""
    latest = Notification.objects.filter(owner=user).order_by("-id").values_list("pk", flat=True)
    return latest.first() or 0


def notification_item(notification: Notification) -> NotificationItem:
    return NotificationItem(
        id=notification.pk,
        title=notification.title,
        body=notification.body,
        outcome=notification.outcome,
        url=reverse("notifications:open", kwargs={"notification_id": notification.pk}),
        created_at=notification.created_at,
        read=notification.is_read,
    )


def notification_email_wanted(*, user_id: int) -> bool:
    """Whether the user opted in to a mail when one of their jobs ends (off by default)."""
    return NotificationPreference.objects.filter(user_id=user_id, email_on_job_end=True).exists()
