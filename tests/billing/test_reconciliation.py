from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from billing.models import CreditAccount, CreditGrant
from billing.selectors import ledger_reconcile
from billing.services import credits_capture, credits_release, credits_reserve
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def _busy_ledger(user, other_user) -> None:
    fund(user, 20)
    fund(other_user, 5)
    for amount in (3, 4, 5):
        ref = job_ref()
        credits_reserve(user=user, amount=amount, feature="analysis", job_ref=ref)
        credits_capture(job_ref=ref, feature="analysis", amount=amount - 1, usage_quantity=9)
    ref = job_ref()
    credits_reserve(user=other_user, amount=5, feature="stem_separation", job_ref=ref)
    credits_release(job_ref=ref, feature="stem_separation")
    credits_reserve(user=other_user, amount=2, feature="analysis", job_ref=job_ref())


def test_reconcile_credits_reports_a_consistent_ledger(user, other_user) -> None:
    _busy_ledger(user, other_user)
    out = StringIO()
    call_command("reconcile_credits", stdout=out)
    assert "OK: no drift." in out.getvalue()
    report = ledger_reconcile()
    assert report.ok
    assert report.debits_total == report.credits_total == 25 + 9
    assert report.pending_debits_total == report.pending_credits_total == 2


def test_reconcile_credits_fails_on_a_balance_that_transfers_do_not_explain(user, other_user):
    _busy_ledger(user, other_user)
    CreditAccount.objects.filter(user=user).update(credits_posted=F("credits_posted") + 7)
    out = StringIO()
    with pytest.raises(CommandError, match="off by 7 credits"):
        call_command("reconcile_credits", stdout=out)
    assert "credits_posted: stored 27, transfers say 20" in out.getvalue()
    report = ledger_reconcile()
    assert not report.ok
    assert report.total_drift == 7
    assert [drift.account_id for drift in report.drift_accounts] == [user.credit_account.pk]


def test_reconcile_finds_a_grant_that_disagrees_with_its_drawdowns(user) -> None:
    fund(user, 5)
    CreditGrant.objects.update(remaining=4)
    assert ledger_reconcile().grant_drift == (CreditGrant.objects.get().pk,)


def test_reconcile_flags_an_expired_reservation_nobody_released(user) -> None:
    fund(user, 5)
    reservation = credits_reserve(user=user, amount=2, feature="analysis", job_ref=job_ref())
    later = timezone.now() + timedelta(days=1)
    report = ledger_reconcile(now=later)
    assert not report.ok
    assert [orphan.transfer_id for orphan in report.orphaned_reservations] == [reservation.pk]
    assert ledger_reconcile().ok
