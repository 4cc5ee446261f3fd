"""Races on PostgreSQL: real threads, real connections, real row locks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing.errors import InsufficientCredits, ReservationReleased
from billing.models import (
    AccountKind,
    CreditAccount,
    CreditGrant,
    SystemPosting,
    Transfer,
    TransferKind,
)
from billing.selectors import credit_balance_for_user, ledger_reconcile
from billing.services import (
    credit_account_open,
    credits_capture,
    credits_grant,
    credits_release,
    credits_release_stale,
    credits_reserve,
    system_postings_fold,
)
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db(transaction=True)


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Run every worker in its own thread, released together; return results or exceptions."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:  # the outcome under test may be a refusal
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def assert_reconcile_credits_reports_no_drift() -> None:
    out = StringIO()
    call_command("reconcile_credits", stdout=out)
    assert "OK: no drift." in out.getvalue()
    assert ledger_reconcile().ok


def test_forty_racing_reservations_spend_exactly_the_balance(postgres_url, user) -> None:
    fund(user, 103)
    results = race(
        [
            lambda: credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
            for _ in range(40)
        ]
    )
    reserved = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(reserved), len(refused)) == (20, 20), results
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved, balance.posted) == (3, 100, 103)
    assert_reconcile_credits_reports_no_drift()


def test_one_idempotency_key_from_many_threads_reserves_once(postgres_url, user) -> None:
    fund(user, 50)
    ref = job_ref()
    results = race(
        [
            lambda: credits_reserve(
                user=user, amount=7, feature="analysis", job_ref=ref, idempotency_key="submit-1"
            )
            for _ in range(20)
        ]
    )
    assert all(isinstance(r, Transfer) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Transfer.objects.filter(kind=TransferKind.RESERVE).count() == 1
    assert credit_balance_for_user(user=user).available == 43
    assert_reconcile_credits_reports_no_drift()


def test_capture_and_release_racing_the_sweep_settle_each_reservation_once(
    postgres_url, user
) -> None:
    fund(user, 200)
    refs = [job_ref() for _ in range(16)]
    for ref in refs:
        credits_reserve(
            user=user,
            amount=10,
            feature="analysis",
            job_ref=ref,
            expires_at=timezone.now() + timedelta(minutes=5),
        )
    future = timezone.now() + timedelta(hours=1)
    workers: list[Callable[[], Any]] = []
    for index, ref in enumerate(refs):
        if index % 2:
            workers.append(
                partial(
                    credits_capture,
                    job_ref=ref,
                    feature="analysis",
                    amount=6,
                    usage_quantity=300,
                )
            )
        else:
            workers.append(partial(credits_release, job_ref=ref, feature="analysis"))
    workers += [lambda: credits_release_stale(now=future) for _ in range(4)]
    results = race(workers)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, ReservationReleased)
    ]
    assert not unexpected, unexpected
    swept = sum(r for r in results if isinstance(r, int))
    captured = 0
    released_by_callers = 0
    for index, ref in enumerate(refs):
        kinds = sorted(Transfer.objects.filter(job_ref=ref).values_list("kind", flat=True))
        if TransferKind.CAPTURE in kinds:
            assert kinds == ["capture", "release", "reserve"]
            assert Transfer.objects.get(job_ref=ref, kind=TransferKind.RELEASE).amount == 4
            captured += 6
        else:
            assert kinds == ["release", "reserve"]
            result = results[index]
            if not isinstance(result, Exception) and not result.replayed:
                released_by_callers += 1
    settled_by_release = sum(
        1 for ref in refs if not Transfer.objects.filter(job_ref=ref, kind="capture").exists()
    )
    assert swept + released_by_callers == settled_by_release
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved) == (200 - captured, 0)
    assert_reconcile_credits_reports_no_drift()


def test_first_movements_of_a_user_without_an_account_open_exactly_one(postgres_url, user) -> None:
    results = race([lambda: credits_grant(user=user, amount=3, reason="race") for _ in range(12)])
    assert all(isinstance(r, Transfer) for r in results), results
    assert CreditAccount.objects.filter(user=user).count() == 1
    assert credit_balance_for_user(user=user).available == 36
    assert_reconcile_credits_reports_no_drift()


def test_racing_first_movements_of_a_new_user_grant_the_sign_up_bonus_once(
    postgres_url, user, settings
) -> None:
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    workers: list[Callable[[], Any]] = []
    for _ in range(4):
        workers.append(lambda: credit_account_open(user=user))
        workers.append(lambda: credits_grant(user=user, amount=3, reason="race"))
        workers.append(
            lambda: credits_reserve(user=user, amount=1, feature="analysis", job_ref=job_ref())
        )
    results = race(workers)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert CreditAccount.objects.filter(user=user).count() == 1
    bonuses = Transfer.objects.filter(credit_account__user=user, memo="Sign-up bonus")
    assert list(bonuses.values_list("amount", flat=True)) == [30]
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved, balance.posted) == (38, 4, 42)
    assert_reconcile_credits_reports_no_drift()


def test_reservations_and_captures_that_both_expire_grants_never_deadlock(postgres_url) -> None:
    soon = timezone.now() + timedelta(hours=1)
    reservers = [User.objects.create_user(email=f"r{i}@example.com") for i in range(8)]
    capturers = [User.objects.create_user(email=f"c{i}@example.com") for i in range(8)]
    for user in reservers:
        fund(user, 10)
        credits_grant(user=user, amount=5, reason="trial", expires_at=soon)
    refs = []
    for user in capturers:
        credits_grant(user=user, amount=10, reason="trial", expires_at=soon)
        refs.append(job_ref())
        credits_reserve(user=user, amount=6, feature="analysis", job_ref=refs[-1])
    # Age the trial grants: a reservation now expires one before it reserves, and a partial
    # capture hands credits back to one and expires them, touching the system accounts in the
    # opposite order.
    CreditGrant.objects.filter(expires_at=soon).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    workers: list[Callable[[], Any]] = [
        partial(credits_reserve, user=user, amount=3, feature="analysis", job_ref=job_ref())
        for user in reservers
    ] + [
        partial(credits_capture, job_ref=ref, feature="analysis", amount=2, usage_quantity=60)
        for ref in refs
    ]
    results = race(workers)
    assert not [r for r in results if isinstance(r, Exception)], results
    for user in reservers:
        balance = credit_balance_for_user(user=user)
        assert (balance.available, balance.reserved) == (7, 3)
    for user in capturers:
        balance = credit_balance_for_user(user=user)
        assert (balance.available, balance.reserved, balance.posted) == (0, 0, 0)
    assert_reconcile_credits_reports_no_drift()


def test_folds_racing_reservations_and_captures_count_every_posting_once(postgres_url) -> None:
    users = [User.objects.create_user(email=f"f{i}@example.com") for i in range(6)]
    for user in users:
        fund(user, 100)

    def spend_three_times(user: User) -> None:
        for _ in range(3):
            ref = job_ref()
            credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref)
            assert ledger_reconcile().ok
            credits_capture(job_ref=ref, feature="analysis", amount=3, usage_quantity=60)

    def fold_repeatedly() -> int:
        return sum(system_postings_fold() for _ in range(10))

    results = race(
        [partial(spend_three_times, user) for user in users] + [fold_repeatedly for _ in range(3)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_reconcile_credits_reports_no_drift()
    system_postings_fold()
    assert not SystemPosting.objects.exists()
    revenue = CreditAccount.objects.get(kind=AccountKind.REVENUE)
    assert (revenue.credits_posted, revenue.credits_pending) == (6 * 3 * 3, 0)
    assert CreditAccount.objects.get(kind=AccountKind.GRANTS).debits_posted == 6 * 100
    assert_reconcile_credits_reports_no_drift()
