"""On PostgreSQL, reserve and capture take a path of two statements each: it must write
exactly what the general path writes, and leave every other case to it."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from billing import hot_paths
from billing.models import (
    AccountKind,
    CreditAccount,
    CreditGrant,
    FeatureUsage,
    GrantDrawdown,
    LedgerRequest,
    SystemPosting,
    Transfer,
)
from billing.selectors import ledger_reconcile
from billing.services import credits_capture, credits_grant, credits_reserve
from tests.billing.factories import job_ref

pytestmark = pytest.mark.django_db


def _spend_across_two_grants(user: User, *, capture: int | None) -> None:
    credits_grant(user=user, amount=4, reason="first", priority=5)
    credits_grant(user=user, amount=10, reason="second", expires_at=timezone.now() + timedelta(1))
    ref = f"analysis:{user.pk}"
    credits_reserve(user=user, amount=9, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", amount=capture, usage_quantity=61)


def _written_for(user: User) -> dict[str, Any]:
    """What the ledger holds for `user`, without ids, keys or times that differ per user."""
    account = CreditAccount.objects.get(user=user)
    transfers = Transfer.objects.filter(debit_account=account).order_by("pk")
    prefix = f"{account.pk}:"
    return {
        "balances": (
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        ),
        "transfers": [
            (
                t.kind,
                t.amount,
                t.credit_account.kind,
                t.pending.kind if t.pending else None,
                t.memo,
                t.feature,
                t.idempotency_key.removeprefix(prefix).replace(str(user.pk), "<user>"),
                t.expires_at is not None,
            )
            for t in transfers
        ],
        "drawdowns": [
            (d.transfer.kind, d.grant.amount, d.amount)
            for d in GrantDrawdown.objects.filter(grant__account=account).order_by("pk")
        ],
        "grants": list(
            CreditGrant.objects.filter(account=account)
            .order_by("pk")
            .values_list("amount", "remaining")
        ),
        "requests": list(
            LedgerRequest.objects.filter(account=account, operation="reserve").values_list(
                "operation", "fingerprint", "outcome", "transfer__kind", "error_code"
            )
        ),
        "usage": list(
            FeatureUsage.objects.filter(user=user).values_list(
                "feature", "quantity", "unit", "cost", "transfer__kind"
            )
        ),
    }


def _normalised(written: dict[str, Any], user: User) -> dict[str, Any]:
    written["requests"] = [
        (op, fingerprint.replace(str(user.pk), "<user>"), *rest)
        for op, fingerprint, *rest in written["requests"]
    ]
    return written


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements sent, without the savepoints of the test's enclosing transaction."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("capture", [None, 6, 0])
def test_the_hot_path_writes_what_the_general_path_writes(
    postgres_url, user, other_user, monkeypatch, capture
) -> None:
    CreditAccount.objects.create(kind=AccountKind.REVENUE, user=None)
    with CaptureQueriesContext(connection) as hot:
        _spend_across_two_grants(user, capture=capture)
    postings_before = SystemPosting.objects.count()
    with monkeypatch.context() as patched, CaptureQueriesContext(connection) as general:
        patched.setattr(hot_paths, "applies", lambda: False)
        _spend_across_two_grants(other_user, capture=capture)
    assert SystemPosting.objects.count() > postings_before
    assert len(_statements(hot)) < len(_statements(general))

    assert _normalised(_written_for(user), user) == _normalised(
        _written_for(other_user), other_user
    )
    assert ledger_reconcile().ok


def test_reserve_and_capture_send_two_statements_each(postgres_url, user) -> None:
    credits_grant(user=user, amount=20, reason="funding")
    first = job_ref()
    credits_reserve(user=user, amount=5, feature="analysis", job_ref=first)
    credits_capture(job_ref=first, feature="analysis", usage_quantity=60)
    ref = job_ref()
    with CaptureQueriesContext(connection) as reserving:
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
    with CaptureQueriesContext(connection) as capturing:
        credits_capture(job_ref=ref, feature="analysis", amount=3, usage_quantity=60)
    assert (len(_statements(reserving)), len(_statements(capturing))) == (2, 2)
    assert CreditAccount.objects.get(user=user).available == 12
    assert ledger_reconcile().ok


def test_a_replayed_reservation_takes_the_general_path_and_returns_the_first(
    postgres_url, user
) -> None:
    credits_grant(user=user, amount=20, reason="funding")
    ref = job_ref()
    first = credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
    again = credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
    assert again.pk == first.pk
    assert Transfer.objects.filter(job_ref=ref).count() == 1
    assert CreditAccount.objects.get(user=user).available == 15


def test_a_reservation_expires_a_due_grant_before_spending(postgres_url, user) -> None:
    credits_grant(user=user, amount=8, reason="trial", expires_at=timezone.now() + timedelta(1))
    credits_grant(user=user, amount=6, reason="bought")
    CreditGrant.objects.filter(amount=8).update(expires_at=timezone.now() - timedelta(seconds=1))
    credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
    assert CreditAccount.objects.get(user=user).available == 1
    assert ledger_reconcile().ok


def test_a_capture_returning_credits_to_an_expired_grant_expires_them(postgres_url, user) -> None:
    credits_grant(user=user, amount=8, reason="trial", expires_at=timezone.now() + timedelta(1))
    ref = job_ref()
    credits_reserve(user=user, amount=8, feature="analysis", job_ref=ref)
    CreditGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    settlement = credits_capture(job_ref=ref, feature="analysis", amount=3, usage_quantity=60)
    assert (settlement.captured, settlement.released) == (3, 5)
    account = CreditAccount.objects.get(user=user)
    assert (account.available, account.reserved, account.posted) == (0, 0, 0)
    assert ledger_reconcile().ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_movement_commits_in_its_own_round_trip(
    postgres_url, user
) -> None:
    CreditAccount.objects.create(kind=AccountKind.REVENUE, user=None)
    credits_grant(user=user, amount=20, reason="funding")
    ref = job_ref()
    with CaptureQueriesContext(connection) as reserving:
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
    seen_by_another_connection = _available_from_another_connection(user)
    with CaptureQueriesContext(connection) as capturing:
        credits_capture(job_ref=ref, feature="analysis", amount=3, usage_quantity=60)
    assert [len(reserving.captured_queries), len(capturing.captured_queries)] == [2, 2]
    assert seen_by_another_connection == 15
    assert _available_from_another_connection(user) == 17
    assert ledger_reconcile().ok


def _available_from_another_connection(user: User) -> int:
    seen: list[int] = []

    def read() -> None:
        try:
            seen.append(CreditAccount.objects.get(user=user).available)
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=30)
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_a_failure_inside_the_callers_transaction_leaves_it_usable(postgres_url, user) -> None:
    CreditAccount.objects.create(kind=AccountKind.REVENUE, user=None)
    credits_grant(user=user, amount=20, reason="funding")
    locked, finished = threading.Event(), threading.Event()

    def hold_the_account_lock() -> None:
        try:
            with transaction.atomic():
                CreditAccount.objects.select_for_update().get(user=user)
                locked.set()
                finished.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_account_lock)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '100ms'")
            with pytest.raises(OperationalError):
                credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
            assert CreditAccount.objects.get(user=user).available == 20
    finally:
        finished.set()
        holder.join(timeout=30)
    assert CreditAccount.objects.get(user=user).available == 20
    assert ledger_reconcile().ok
