from __future__ import annotations

import pytest

from billing.errors import AdjustmentRefused, InsufficientCredits, NothingToRefund
from billing.models import CreditGrant, Transfer, TransferKind
from billing.selectors import credit_balance_for_user, ledger_reconcile
from billing.services import credits_adjust, credits_capture, credits_refund, credits_reserve
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def _charged(user, amount: int) -> str:
    ref = job_ref()
    credits_reserve(user=user, amount=amount, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", usage_quantity=60)
    return ref


def test_a_refund_returns_the_charge_once(user, staff_user) -> None:
    fund(user, 10)
    ref = _charged(user, 4)
    first = credits_refund(job_ref=ref, feature="analysis", reason="bad result", actor=staff_user)
    again = credits_refund(job_ref=ref, feature="analysis", reason="bad result")
    assert first.pk == again.pk
    assert (first.kind, first.amount, first.actor) == (TransferKind.REFUND, 4, staff_user)
    assert credit_balance_for_user(user=user).available == 10
    assert CreditGrant.objects.get(transfer=first).expires_at is None
    assert ledger_reconcile().ok


def test_a_partial_refund_returns_only_that_amount(user) -> None:
    fund(user, 10)
    ref = _charged(user, 4)
    credits_refund(job_ref=ref, feature="analysis", reason="slow", amount=1)
    assert credit_balance_for_user(user=user).available == 7


def test_refunding_an_uncharged_job_is_refused(user) -> None:
    with pytest.raises(NothingToRefund):
        credits_refund(job_ref=job_ref(), feature="analysis", reason="x")


def test_a_staff_adjustment_records_the_actor_and_reason(user, staff_user) -> None:
    added = credits_adjust(user=user, amount=15, reason="goodwill", actor=staff_user)
    removed = credits_adjust(user=user, amount=-5, reason="duplicate grant", actor=staff_user)
    assert (added.actor, added.memo, added.kind) == (staff_user, "goodwill", "adjustment")
    assert (removed.debit_account.user, removed.memo) == (user, "duplicate grant")
    assert credit_balance_for_user(user=user).available == 10
    assert ledger_reconcile().ok


def test_an_adjustment_needs_staff_and_a_reason(user, other_user, staff_user) -> None:
    with pytest.raises(AdjustmentRefused):
        credits_adjust(user=user, amount=5, reason="because", actor=other_user)
    with pytest.raises(AdjustmentRefused):
        credits_adjust(user=user, amount=5, reason="   ", actor=staff_user)
    assert not Transfer.objects.exists()


def test_an_adjustment_cannot_remove_more_than_is_available(user, staff_user) -> None:
    fund(user, 3)
    with pytest.raises(InsufficientCredits) as refused:
        credits_adjust(user=user, amount=-4, reason="clawback", actor=staff_user)
    assert refused.value.extra == {"required": 4, "available": 3}
    assert credit_balance_for_user(user=user).available == 3
