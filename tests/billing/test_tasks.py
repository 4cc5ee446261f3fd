from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from billing import tasks
from billing.models import CreditGrant
from billing.selectors import credit_balance_for_user
from billing.services import credits_grant, credits_reserve
from tests.billing.factories import job_ref

pytestmark = pytest.mark.django_db


def test_beat_schedules_the_sweep_expiry_monthly_grant_and_reconciliation() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "billing.tasks.credits_release_stale",
        "billing.tasks.credits_expire",
        "billing.tasks.credits_grant_monthly",
        "billing.tasks.ledger_reconcile",
    } <= scheduled


def test_monthly_grant_task_twice_grants_once(user, settings) -> None:
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    assert tasks.credits_grant_monthly.apply().get() == 1
    assert tasks.credits_grant_monthly.apply().get() == 0
    assert credit_balance_for_user(user=user).available == 60


def test_expiry_task_expires_grants_past_their_date(user) -> None:
    credits_grant(user=user, amount=5, reason="trial", expires_at=timezone.now() + timedelta(1))
    # Grants cannot be created already expired; age this one instead of sleeping.
    CreditGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.credits_expire.apply().get() == 5
    assert credit_balance_for_user(user=user).available == 0


def test_sweep_task_releases_nothing_still_in_time(user) -> None:
    credits_grant(user=user, amount=5, reason="x")
    credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
    assert tasks.credits_release_stale.apply().get() == 0
    assert credit_balance_for_user(user=user).reserved == 5


def test_reconcile_task_reports_a_clean_ledger(user) -> None:
    credits_grant(user=user, amount=5, reason="x")
    assert tasks.ledger_reconcile.apply().get() is True
