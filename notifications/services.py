"""Every change to a user's notifications: one per ended job, read on opening, the email opt-in.

Notifications hear job outcomes through the job layer's listener registry
(`jobs.outcomes`), registered from NotificationsConfig.ready(); the job kinds know nothing
of them.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from jobs.outcomes import JobOutcome
from notifications.errors import NotificationNotFound
from notifications.models import Notification, NotificationPreference
from notifications.selectors import notification_email_wanted

logger = logging.getLogger(__name__)

NOTIFIED_OUTCOMES = ("succeeded", "failed")
# What sending can raise when the mail server is away or refuses; the notification stays.
MAIL_ERRORS: tuple[type[Exception], ...] = (smtplib.SMTPException, OSError)


def notification_from_job(outcome: JobOutcome) -> None:
    """The job layer's outcome listener: tell the owner that their job finished or failed.

    Mails the owner too when they opted in. Nobody needs telling about a cancellation (the
    owner or staff chose it), a reused result (it was ready the moment it was asked for, on
    the page that asked), or a job of a kind without a page to link to.
    """
    if outcome.outcome not in NOTIFIED_OUTCOMES or outcome.reused or outcome.page_path is None:
        return
    what = outcome.description or outcome.kind.replace("_", " ")
    if outcome.outcome == "succeeded":
        title = f"{_capitalised(what)} finished"
        body = "The results are ready."
    else:
        title = f"{_capitalised(what)} failed"
        reason = outcome.error_message or "It could not be completed."
        body = f"{reason} No credits were charged."
    notification = Notification.objects.create(
        owner_id=outcome.owner_id,
        job_kind=outcome.kind,
        job_id=outcome.job_id,
        outcome=outcome.outcome,
        title=title[:300],
        body=body[:600],
        link=outcome.page_path,
        created_at=outcome.finished_at,
    )
    if notification_email_wanted(user_id=outcome.owner_id):
        notification_email_send(notification=notification)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def notification_email_send(*, notification: Notification) -> bool:
    """Mail `notification` to its owner's address alone; False when the mail server failed.

    A failed mail is logged and not retried: the notification itself is already on the site.
    """
    owner = User.objects.only("email").get(pk=notification.owner_id)
    context = {
        "title": notification.title,
        "body": notification.body,
        "url": settings.PHONOGLYPH_PUBLIC_URL.rstrip("/") + notification.link,
        "preferences_url": settings.PHONOGLYPH_PUBLIC_URL.rstrip("/") + reverse("accounts:account"),
    }
    try:
        send_mail(
            subject=notification.title,
            message=render_to_string("notifications/job_ended_email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[owner.email],
        )
    except MAIL_ERRORS:
        logger.warning("the mail of notification %s could not be sent", notification.pk)
        return False
    return True


def notification_open(*, user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read and return it; raises NotificationNotFound."""
    notification = Notification.objects.filter(owner=user, pk=notification_id).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        now = timezone.now()
        # Only the first opening dates the reading; a second tab opening it changes nothing.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read; returns how many were unread."""
    return Notification.objects.filter(owner=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_email_preference_set(*, user: User, email_on_job_end: bool) -> None:
    """Turn the mail on a job's end on or off for `user`."""
    NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_on_job_end": email_on_job_end}
    )


def notifications_prune(*, now: datetime | None = None) -> int:
    """Delete the notifications older than PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS)
    deleted, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted
