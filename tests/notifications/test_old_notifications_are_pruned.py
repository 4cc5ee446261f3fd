"""Notifications are kept for PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS, then deleted by the daily task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from notifications.tasks import notifications_prune
from tests.notifications.conftest import end_analysis, running_analysis

pytestmark = pytest.mark.django_db


def test_notifications_past_their_keeping_time_are_deleted_and_recent_ones_kept(
    user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS = 30
    for name in ("old.wav", "recent.wav"):
        end_analysis(
            running_analysis(user, name), failed=False, capture=django_capture_on_commit_callbacks
        )
    old, recent = (Notification.objects.get(title__contains=n) for n in ("old.wav", "recent.wav"))
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    assert notifications_prune() == 1

    assert list(Notification.objects.filter(owner=user)) == [recent]
