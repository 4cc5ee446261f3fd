"""Any sequence of grant/reserve/capture/release/expire keeps every ledger invariant."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from billing.errors import InsufficientCredits
from billing.models import CreditAccount, CreditGrant, Transfer, TransferKind
from billing.selectors import ledger_reconcile
from billing.services import (
    credits_capture,
    credits_expire,
    credits_grant,
    credits_release,
    credits_reserve,
)
from tests.billing.factories import job_ref


class LedgerMachine(RuleBasedStateMachine):
    reservations = Bundle("reservations")

    def __init__(self) -> None:
        super().__init__()
        self.user = User.objects.create_user(email=f"machine-{uuid.uuid4()}@example.com")
        self.started = timezone.now()
        self.clock = self.started
        self.granted = 0
        self.captured = 0
        self.open: dict[str, tuple[int, datetime]] = {}

    def _account(self) -> CreditAccount:
        return CreditAccount.objects.get(user=self.user)

    def _available(self) -> int:
        account = CreditAccount.objects.filter(user=self.user).first()
        return 0 if account is None else account.available

    @rule(
        amount=st.integers(min_value=1, max_value=40),
        expires_in_hours=st.none() | st.integers(min_value=1, max_value=30),
        priority=st.integers(min_value=0, max_value=2),
    )
    def grant(self, amount: int, expires_in_hours: int | None, priority: int) -> None:
        expires_at = None
        if expires_in_hours is not None:
            expires_at = max(self.clock, timezone.now()) + timedelta(hours=expires_in_hours)
        credits_grant(
            user=self.user,
            amount=amount,
            reason="machine",
            expires_at=expires_at,
            priority=priority,
        )
        self.granted += amount

    @rule(
        target=reservations,
        amount=st.integers(min_value=1, max_value=40),
        ttl_hours=st.integers(min_value=1, max_value=30),
    )
    def reserve(self, amount: int, ttl_hours: int) -> str:
        available = self._available()
        ref = job_ref()
        expires_at = max(self.clock, timezone.now()) + timedelta(hours=ttl_hours)
        refusal: InsufficientCredits | None = None
        try:
            credits_reserve(
                user=self.user,
                amount=amount,
                feature="analysis",
                job_ref=ref,
                expires_at=expires_at,
            )
        except InsufficientCredits as refused:
            refusal = refused
        if refusal is not None:
            assert amount > available
            assert refusal.extra == {"required": amount, "available": available}
        else:
            assert amount <= available
            self.open[ref] = (amount, expires_at)
        return ref

    @rule(ref=consumes(reservations), fraction=st.none() | st.floats(min_value=0, max_value=1))
    def capture(self, ref: str, fraction: float | None) -> None:
        if ref not in self.open:
            return
        reserved, _ = self.open.pop(ref)
        amount = None if fraction is None else int(reserved * fraction)
        settlement = credits_capture(
            job_ref=ref, feature="analysis", amount=amount, usage_quantity=60
        )
        expected = reserved if amount is None else amount
        assert (settlement.captured, settlement.released) == (expected, reserved - expected)
        self.captured += expected

    @rule(ref=consumes(reservations))
    def release(self, ref: str) -> None:
        settlement = credits_release(job_ref=ref, feature="analysis")
        if ref in self.open:
            reserved, _ = self.open.pop(ref)
            assert (settlement.released, settlement.replayed) == (reserved, False)

    @rule(hours=st.integers(min_value=0, max_value=40))
    def expire(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)
        result = credits_expire(now=self.clock)
        due = [ref for ref, (_, expires_at) in self.open.items() if expires_at <= self.clock]
        for ref in due:
            del self.open[ref]
        assert result.reservations_released >= len(due)

    @invariant()
    def balances_match_the_model(self) -> None:
        account = CreditAccount.objects.filter(user=self.user).first()
        if account is None:
            return
        assert account.available >= 0
        assert account.reserved == sum(amount for amount, _ in self.open.values())
        assert account.credits_posted == self.granted
        expired = (
            Transfer.objects.filter(debit_account=account, kind=TransferKind.EXPIRY).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        assert account.debits_posted == self.captured + expired
        remaining = CreditGrant.objects.filter(account=account).aggregate(total=Sum("remaining"))[
            "total"
        ]
        assert (remaining or 0) == account.available

    @invariant()
    def ledger_reconciles(self) -> None:
        report = ledger_reconcile(now=self.started)
        assert report.drift_accounts == ()
        assert report.grant_drift == ()
        assert report.debits_total == report.credits_total
        assert report.pending_debits_total == report.pending_credits_total


@pytest.mark.django_db
def test_ledger_invariants_hold_for_any_sequence_of_operations() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    out = StringIO()
    call_command("reconcile_credits", stdout=out)
    assert "OK: no drift." in out.getvalue()
