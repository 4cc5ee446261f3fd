"""Grants: consumption order, expiry, the sign-up bonus and the monthly free tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.services import user_create
from billing.models import CreditGrant, GrantDrawdown, Transfer, TransferKind
from billing.selectors import credit_balance_for_user, ledger_reconcile
from billing.services import (
    credit_account_open,
    credits_capture,
    credits_expire,
    credits_grant,
    credits_grant_monthly,
    credits_grant_monthly_all,
    credits_release,
    credits_reserve,
)
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def _remaining(transfer: Transfer) -> int:
    return CreditGrant.objects.get(transfer=transfer).remaining


def test_grants_are_consumed_by_priority_then_earliest_expiry_then_age(user) -> None:
    now = timezone.now()
    plain_old = credits_grant(user=user, amount=5, reason="old")
    plain_new = credits_grant(user=user, amount=5, reason="new")
    late = credits_grant(user=user, amount=5, reason="late", expires_at=now + timedelta(days=9))
    soon = credits_grant(user=user, amount=5, reason="soon", expires_at=now + timedelta(days=2))
    urgent = credits_grant(user=user, amount=5, reason="prio", priority=5)

    reservation = credits_reserve(user=user, amount=19, feature="analysis", job_ref=job_ref())

    drawn = list(
        GrantDrawdown.objects.filter(transfer=reservation)
        .order_by("pk")
        .values_list("grant__transfer_id", "amount")
    )
    assert drawn == [(urgent.pk, 5), (soon.pk, 5), (late.pk, 5), (plain_old.pk, 4)]
    assert _remaining(plain_old) == 1
    assert _remaining(plain_new) == 5


def test_a_release_returns_credits_to_the_grants_they_came_from(user) -> None:
    first = credits_grant(user=user, amount=3, reason="a", priority=1)
    second = credits_grant(user=user, amount=3, reason="b")
    ref = job_ref()
    credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", amount=4, usage_quantity=200)
    assert (_remaining(first), _remaining(second)) == (0, 2)
    credits_grant(user=user, amount=1, reason="c")
    assert credit_balance_for_user(user=user).available == 3
    assert ledger_reconcile().ok


def test_expired_grants_leave_the_balance_and_their_history_stays(user) -> None:
    now = timezone.now()
    fund(user, 4)
    expiring = credits_grant(
        user=user, amount=6, reason="trial", expires_at=now + timedelta(days=1)
    )
    credits_reserve(
        user=user,
        amount=2,
        feature="analysis",
        job_ref=job_ref(),
        expires_at=now + timedelta(days=3),
    )

    result = credits_expire(now=now + timedelta(days=1, seconds=1))

    assert (result.grants_expired, result.credits_expired) == (1, 4)
    assert _remaining(expiring) == 0
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved) == (4, 2)
    assert Transfer.objects.filter(kind=TransferKind.EXPIRY, amount=4).count() == 1
    assert credits_expire(now=now + timedelta(days=1, seconds=2)).credits_expired == 0


def test_credits_released_to_an_expired_grant_expire_on_the_next_run(user) -> None:
    now = timezone.now()
    credits_grant(user=user, amount=5, reason="trial", expires_at=now + timedelta(hours=1))
    ref = job_ref()
    credits_reserve(
        user=user, amount=5, feature="analysis", job_ref=ref, expires_at=now + timedelta(days=1)
    )
    credits_expire(now=now + timedelta(hours=2))
    credits_release(job_ref=ref, feature="analysis")
    credits_expire(now=now + timedelta(hours=3))
    assert credit_balance_for_user(user=user).available == 0
    assert ledger_reconcile(now=now + timedelta(hours=3)).ok


def test_credits_expire_releases_reservations_past_their_expiry(user) -> None:
    fund(user, 5)
    credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
    result = credits_expire(now=timezone.now() + timedelta(days=1))
    assert result.reservations_released == 1
    assert credit_balance_for_user(user=user).available == 5


def test_a_grant_cannot_expire_in_the_past_or_be_empty(user) -> None:
    with pytest.raises(ValueError, match="past"):
        credits_grant(
            user=user, amount=1, reason="x", expires_at=timezone.now() - timedelta(seconds=1)
        )
    with pytest.raises(ValueError, match="positive"):
        credits_grant(user=user, amount=0, reason="x")


def test_a_grant_key_grants_once(user) -> None:
    first = credits_grant(user=user, amount=7, reason="promo", idempotency_key="promo-1")
    again = credits_grant(user=user, amount=7, reason="promo", idempotency_key="promo-1")
    assert first.pk == again.pk
    assert credit_balance_for_user(user=user).available == 7


def test_signing_up_grants_the_bonus_once(settings) -> None:
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    user = user_create(email="new@example.com", password="a long passphrase here")
    credit_account_open(user=user)
    assert credit_balance_for_user(user=user).available == 30
    assert Transfer.objects.filter(credit_account__user=user).count() == 1


def test_monthly_grant_is_given_once_per_month_and_expires_after_next_month(user, settings):
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    moment = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    first = credits_grant_monthly(user=user, now=moment)
    again = credits_grant_monthly(user=user, now=moment + timedelta(days=3))
    assert first is not None
    assert again is not None
    assert first.pk == again.pk
    assert first.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert credit_balance_for_user(user=user).available == 60


def test_monthly_task_run_twice_grants_each_active_user_once(user, other_user, settings):
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    other_user.is_active = False
    other_user.save()
    assert credits_grant_monthly_all() == 1
    assert credits_grant_monthly_all() == 0
    assert credit_balance_for_user(user=user).available == 60
    assert credit_balance_for_user(user=other_user).available == 0


def test_a_new_month_grants_again(user, settings) -> None:
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    november = timezone.now() + timedelta(days=1)
    credits_grant_monthly(user=user, now=november)
    credits_grant_monthly(user=user, now=november + timedelta(days=31))
    assert credit_balance_for_user(user=user).available == 120


def test_changing_the_monthly_amount_mid_month_does_not_grant_again(user, settings) -> None:
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    assert credits_grant_monthly_all() == 1
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 80
    assert credits_grant_monthly_all() == 0
    assert credit_balance_for_user(user=user).available == 60
