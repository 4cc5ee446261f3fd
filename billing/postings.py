"""Posting primitives of the credits ledger: transactions, locks and transfers.

Every ledger change runs inside `ledger_transaction()` and takes the user's `CreditAccount` row
lock (`SELECT ... FOR UPDATE`) before it reads anything it decides on, so two movements of one
account never interleave: that is what prevents lost updates (two reads of one balance both
deciding to spend it), double settlement (a capture racing the expiry sweep) and double replay
of an idempotency key. The CHECK constraints on `CreditAccount` are the backstop. On
PostgreSQL the common case of a reservation and of a capture is written in SQL
(`billing.hot_paths`), which takes the same lock first and runs in a transaction of its own
when the caller has none open.

The system accounts (grants, revenue) are shared by every user, so a change never locks or
updates their rows: it appends `SystemPosting` rows, which `system_postings_fold` adds to the
rows later. Movements of distinct users therefore never wait on each other.

Grant lots and the idempotent request log built on these primitives are in `billing.grants`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, Case, F, QuerySet, Subquery, Value, When

from accounts.models import User
from billing.models import (
    AccountKind,
    CreditAccount,
    SystemPosting,
    Transfer,
    TransferKind,
)
from billing.notices import credits_low_check
from telemetry.reporting import CreditMovement, ProductEvent, emit_event, observe_credits

# --- transactions and locks --------------------------------------------------------------

BALANCE_FIELDS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


@dataclass
class _LedgerState:
    """What one ledger transaction has yet to write: balance changes per account pk, and the
    system accounts' ids as read by the statement that took the user account's lock."""

    postings: dict[int, dict[str, int]] = field(default_factory=dict)
    user_pks: set[int] = field(default_factory=set)
    system_ids: dict[str, int] = field(default_factory=dict)


_state: ContextVar[_LedgerState | None] = ContextVar("billing_ledger_state", default=None)


@contextmanager
def ledger_transaction() -> Iterator[None]:
    """Run one ledger change atomically.

    Balance changes are collected and written at the end (`_post_balances`): the user
    accounts' rows, locked already, in one UPDATE, and the system accounts' share as
    `SystemPosting` rows in one INSERT, which takes no lock another transaction waits for.
    """
    state = _state.get()
    if state is not None:
        # A nested change rolled back to its savepoint must take its postings with it.
        saved = {pk: dict(change) for pk, change in state.postings.items()}
        try:
            with transaction.atomic():
                yield
        except BaseException:
            state.postings = saved
            raise
        return
    state = _LedgerState()
    token = _state.set(state)
    try:
        with transaction.atomic():
            yield
            _post_balances(state.postings, state.user_pks)
    finally:
        _state.reset(token)


def _post_balances(postings: dict[int, dict[str, int]], user_pks: set[int]) -> None:
    """Move the user accounts' stored balances by `postings` by F() expressions, never from
    values read, and append the system accounts' changes as `SystemPosting` rows."""
    if not postings:
        return
    changed = {pk: change for pk, change in postings.items() if any(change.values())}
    users = [pk for pk in changed if pk in user_pks]
    SystemPosting.objects.bulk_create(
        SystemPosting(account_id=pk, **changed[pk]) for pk in sorted(changed) if pk not in user_pks
    )
    if len(users) == 1:
        (pk,) = users
        updates = {name: F(name) + delta for name, delta in changed[pk].items() if delta}
        CreditAccount.objects.filter(pk=pk).update(**updates)
    elif users:
        fields = {name for pk in users for name, delta in changed[pk].items() if delta}
        CreditAccount.objects.filter(pk__in=users).update(
            **{
                name: F(name)
                + Case(
                    *(
                        When(pk=pk, then=Value(changed[pk].get(name, 0)))
                        for pk in users
                        if changed[pk].get(name, 0)
                    ),
                    default=Value(0),
                    output_field=BigIntegerField(),
                )
                for name in sorted(fields)
            }
        )


def _ledger_state() -> _LedgerState:
    state = _state.get()
    if state is None:
        raise RuntimeError("Ledger changes are made inside ledger_transaction().")
    return state


def system_id_annotations() -> dict[str, Subquery]:
    return {
        f"system_{kind.value}_id": Subquery(
            CreditAccount.objects.filter(kind=kind, user=None).values("pk")[:1]
        )
        for kind in (AccountKind.GRANTS, AccountKind.REVENUE)
    }


def remember_system_ids(row: Any) -> None:
    """Keep the system account ids read along with a lock, to spare a query per posting.

    They are read in the locking statement's snapshot, which is sound because a system
    account, once opened, never changes id.
    """
    state = _state.get()
    if state is None:
        return
    for kind in (AccountKind.GRANTS, AccountKind.REVENUE):
        pk = getattr(row, f"system_{kind.value}_id", None)
        if pk is not None:
            state.system_ids[kind.value] = pk


def system_account(kind: AccountKind) -> CreditAccount:
    state = _state.get()
    if state is not None and kind.value in state.system_ids:
        return CreditAccount(pk=state.system_ids[kind.value], kind=kind, user=None)
    account, _ = CreditAccount.objects.get_or_create(kind=kind, user=None)
    if state is not None:
        state.system_ids[kind.value] = account.pk
    return account


def locking(queryset: QuerySet[CreditAccount]) -> QuerySet[CreditAccount]:
    return queryset.select_for_update().annotate(**system_id_annotations())


def lock_account(pk: int) -> CreditAccount:
    account = locking(CreditAccount.objects.filter(pk=pk)).get()
    remember_system_ids(account)
    return account


# --- transfers ---------------------------------------------------------------------------


def _balance_changes(kind: TransferKind, amount: int) -> tuple[dict[str, int], dict[str, int]]:
    """How a transfer of `kind` moves its (debit, credit) sides' balances."""
    if kind == TransferKind.RESERVE:
        return {"debits_pending": amount}, {"credits_pending": amount}
    if kind == TransferKind.CAPTURE:
        return (
            {"debits_pending": -amount, "debits_posted": amount},
            {"credits_pending": -amount, "credits_posted": amount},
        )
    if kind == TransferKind.RELEASE:
        return {"debits_pending": -amount}, {"credits_pending": -amount}
    return {"debits_posted": amount}, {"credits_posted": amount}


def record(
    *,
    kind: TransferKind,
    debit: CreditAccount,
    credit: CreditAccount,
    amount: int,
    idempotency_key: str,
    pending: Transfer | None = None,
    expires_at: datetime | None = None,
    feature: str = "",
    job_ref: str = "",
    memo: str = "",
    actor: User | None = None,
) -> Transfer:
    """Append a transfer and move both accounts' balances by it.

    Assumes the user account side is locked. The stored balances are posted when the ledger
    transaction ends; the user account object passed in moves at once, so its `available`
    stays true for the rest of the transaction.
    """
    transfer = Transfer(
        kind=kind,
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        idempotency_key=idempotency_key,
        pending=pending,
        expires_at=expires_at,
        feature=feature,
        job_ref=job_ref,
        memo=memo[:500],
        actor=actor,
    )
    (transfer,) = record_all([transfer])
    return transfer


def record_all(transfers: list[Transfer]) -> list[Transfer]:
    """Append unsaved `transfers` in one statement and move their accounts' balances.

    The transfers' account attributes must be the objects `record` would be given.
    """
    state = _ledger_state()
    saved = Transfer.objects.bulk_create(transfers)
    for transfer in saved:
        debit_change, credit_change = _balance_changes(TransferKind(transfer.kind), transfer.amount)
        for account, change in (
            (transfer.debit_account, debit_change),
            (transfer.credit_account, credit_change),
        ):
            posting = state.postings.setdefault(account.pk, {})
            for name, delta in change.items():
                posting[name] = posting.get(name, 0) + delta
                if account.kind == AccountKind.USER:
                    state.user_pks.add(account.pk)
                    setattr(account, name, getattr(account, name) + delta)
    return saved


def after_commit(
    *,
    movement: CreditMovement | None,
    event: ProductEvent | None,
    user_id: int | None,
    amount: int,
    feature: str = "",
    available: int | None = None,
    check_low: bool = True,
) -> None:
    """Report a movement once it is committed, so a rolled-back change is never counted.

    `available` is the user's balance the change left, when the caller knows it;
    `check_low` False leaves the credits-low check to another report of the same change.
    """

    def report() -> None:
        if movement is not None:
            observe_credits(movement, amount)
        if user_id is not None and check_low:
            credits_low_check(user_id=user_id, available=available)
        if event is not None:
            emit_event(
                event, user_id=user_id, properties={"amount": amount, "feature": feature or None}
            )

    transaction.on_commit(report)
