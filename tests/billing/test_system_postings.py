"""The shared system accounts: postings appended per change, folded into their rows later."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from billing.models import AccountKind, CreditAccount, SystemPosting
from billing.selectors import ledger_reconcile
from billing.services import (
    credits_capture,
    credits_release,
    credits_reserve,
    system_postings_fold,
)
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def _revenue() -> CreditAccount:
    return CreditAccount.objects.get(kind=AccountKind.REVENUE)


def _spend(user, *, reserve: int, capture: int) -> None:
    ref = job_ref()
    credits_reserve(user=user, amount=reserve, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", amount=capture, usage_quantity=60)


def test_a_capture_leaves_the_revenue_row_alone_until_the_fold(user) -> None:
    fund(user, 50)
    _spend(user, reserve=10, capture=7)
    revenue = _revenue()
    assert (revenue.credits_posted, revenue.credits_pending) == (0, 0)
    assert ledger_reconcile().ok
    waiting = SystemPosting.objects.count()
    assert waiting > 0

    assert system_postings_fold() == waiting

    revenue = _revenue()
    grants = CreditAccount.objects.get(kind=AccountKind.GRANTS)
    assert (revenue.credits_posted, revenue.credits_pending) == (7, 0)
    assert grants.debits_posted == 50
    assert not SystemPosting.objects.exists()
    assert ledger_reconcile().ok


def test_the_fold_keeps_what_is_still_reserved_pending(user) -> None:
    fund(user, 20)
    credits_reserve(user=user, amount=6, feature="analysis", job_ref=job_ref())
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="stem_separation", job_ref=ref)
    credits_release(job_ref=ref, feature="stem_separation")

    system_postings_fold()

    revenue = _revenue()
    assert (revenue.credits_pending, revenue.credits_posted) == (6, 0)
    report = ledger_reconcile()
    assert report.ok
    assert report.pending_debits_total == report.pending_credits_total == 6


def test_folding_twice_adds_nothing_twice(user) -> None:
    fund(user, 30)
    _spend(user, reserve=5, capture=5)
    system_postings_fold()
    assert system_postings_fold() == 0
    _spend(user, reserve=5, capture=2)
    assert system_postings_fold() > 0
    assert _revenue().credits_posted == 7
    assert ledger_reconcile().ok


def test_the_fold_works_through_the_postings_in_batches(user) -> None:
    fund(user, 30)
    for _ in range(3):
        _spend(user, reserve=2, capture=1)
    waiting = SystemPosting.objects.count()

    assert system_postings_fold(batch=2) == waiting

    assert not SystemPosting.objects.exists()
    assert _revenue().credits_posted == 3
    assert ledger_reconcile().ok


def test_reconcile_credits_fails_on_a_tampered_unfolded_posting(user) -> None:
    fund(user, 30)
    _spend(user, reserve=5, capture=4)
    revenue = _revenue()
    SystemPosting.objects.filter(account=revenue, credits_posted__gt=0).update(
        credits_posted=F("credits_posted") + 3
    )
    out = StringIO()
    with pytest.raises(CommandError, match="off by 3 credits"):
        call_command("reconcile_credits", stdout=out)
    assert f"DRIFT account {revenue.pk} credits_posted: stored 7, transfers say 4" in (
        out.getvalue()
    )


def test_reconcile_credits_fails_on_a_lost_unfolded_posting(user) -> None:
    fund(user, 30)
    _spend(user, reserve=5, capture=4)
    SystemPosting.objects.filter(account=_revenue(), credits_posted__gt=0).delete()
    report = ledger_reconcile()
    assert not report.ok
    assert report.debits_total != report.credits_total
