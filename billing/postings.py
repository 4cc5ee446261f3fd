"""Posting primitives of the credits ledger: locks, transfers, grant lots and the request log.

Every ledger change runs inside `ledger_transaction()` and takes the user's `CreditAccount` row
lock (`SELECT ... FOR UPDATE`) before it reads anything it decides on, so two movements of one
account never interleave: that is what prevents lost updates (two reads of one balance both
deciding to spend it), double settlement (a capture racing the expiry sweep) and double replay
of an idempotency key. Locks are always taken in the same order, the one user account first and
then the system accounts in primary-key order (see `ledger_transaction`), so two transactions
can never wait on each other in a cycle. The CHECK constraints on `CreditAccount` are the
backstop.

Credits come in through `grant` alone and go out of the grants through `spend` alone, so every
credit sits in exactly one grant lot and draw-downs always find it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from accounts.models import User
from billing.errors import InsufficientCredits, LedgerKeyReused, insufficient
from billing.models import (
    AccountKind,
    CreditAccount,
    CreditGrant,
    GrantDrawdown,
    LedgerRequest,
    Transfer,
    TransferKind,
)
from billing.notices import credits_low_check
from core.api.exceptions import DomainError
from telemetry.reporting import CreditMovement, ProductEvent, emit_event, observe_credits

SIGNUP_BONUS_KEY = "signup-bonus"
SIGNUP_BONUS_PRIORITY = 10

_STORED_REFUSALS: dict[str, type[DomainError]] = {InsufficientCredits.code: InsufficientCredits}


# --- transactions and locks --------------------------------------------------------------

_postings: ContextVar[dict[int, dict[str, int]] | None] = ContextVar(
    "billing_system_postings", default=None
)


@contextmanager
def ledger_transaction() -> Iterator[None]:
    """Run one ledger change atomically.

    Balance changes of system accounts (shared by every user) are collected and written at the
    end, in primary-key order. Every transaction therefore locks its one user account first
    and the system accounts last and always in the same order: without that, a reservation
    (grants account, then revenue) and a capture (revenue, then grants) for two users could
    each hold the row the other waits for, a deadlock. It also keeps the shared rows locked
    for the shortest time.
    """
    if _postings.get() is not None:
        with transaction.atomic():
            yield
        return
    postings: dict[int, dict[str, int]] = {}
    token = _postings.set(postings)
    try:
        with transaction.atomic():
            yield
            for pk in sorted(postings):
                changes = {field: F(field) + delta for field, delta in postings[pk].items()}
                CreditAccount.objects.filter(pk=pk).update(**changes)
    finally:
        _postings.reset(token)


def system_account(kind: AccountKind) -> CreditAccount:
    account, _ = CreditAccount.objects.get_or_create(kind=kind, user=None)
    return account


def lock_user_account(user: User) -> CreditAccount:
    """Return `user`'s account locked FOR UPDATE, opening it on the user's first need.

    Billing opens an account the first time its user needs one (a balance shown, a
    reservation, a grant) and grants the sign-up bonus then, once: only the transaction whose
    INSERT created the row grants it, under that row's lock. Two first movements of one user
    may both find no account; the unique user column makes one INSERT win, get_or_create in
    the other re-reads the winner's row (so it grants nothing) and then waits for its lock.
    Assumes an enclosing `ledger_transaction()`.
    """
    account = CreditAccount.objects.select_for_update().filter(user=user).first()
    if account is not None:
        return account
    _, opened = CreditAccount.objects.get_or_create(user=user, defaults={"kind": AccountKind.USER})
    account = CreditAccount.objects.select_for_update().get(user=user)
    bonus = int(settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS)
    if opened and bonus > 0:
        grant_once(
            account=account,
            amount=bonus,
            memo="Sign-up bonus",
            kind=TransferKind.GRANT,
            expires_at=None,
            priority=SIGNUP_BONUS_PRIORITY,
            key=SIGNUP_BONUS_KEY,
            actor=None,
            per_period=True,
        ).result()
        account.refresh_from_db()
    return account


def lock_account(pk: int) -> CreditAccount:
    return CreditAccount.objects.select_for_update().get(pk=pk)


# --- transfers ---------------------------------------------------------------------------


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

    Assumes the user account side is locked. Balances move by F() expressions, never from a
    value read earlier; the system side is posted when the ledger transaction ends.
    """
    transfer = Transfer.objects.create(
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
    if kind == TransferKind.RESERVE:
        debit_change = {"debits_pending": amount}
        credit_change = {"credits_pending": amount}
    elif kind == TransferKind.CAPTURE:
        debit_change = {"debits_pending": -amount, "debits_posted": amount}
        credit_change = {"credits_pending": -amount, "credits_posted": amount}
    elif kind == TransferKind.RELEASE:
        debit_change = {"debits_pending": -amount}
        credit_change = {"credits_pending": -amount}
    else:
        debit_change = {"debits_posted": amount}
        credit_change = {"credits_posted": amount}
    postings = _postings.get()
    if postings is None:
        raise RuntimeError("Ledger transfers are recorded inside ledger_transaction().")
    for account, change in ((debit, debit_change), (credit, credit_change)):
        if account.kind == AccountKind.USER:
            CreditAccount.objects.filter(pk=account.pk).update(
                **{field: F(field) + delta for field, delta in change.items()}
            )
        else:
            posting = postings.setdefault(account.pk, {})
            for field, delta in change.items():
                posting[field] = posting.get(field, 0) + delta
    return transfer


def after_commit(
    *,
    movement: CreditMovement | None,
    event: ProductEvent | None,
    user_id: int | None,
    amount: int,
    feature: str = "",
) -> None:
    """Report a movement once it is committed, so a rolled-back change is never counted."""

    def report() -> None:
        if movement is not None:
            observe_credits(movement, amount)
        if user_id is not None:
            credits_low_check(user_id=user_id)
        if event is not None:
            emit_event(
                event, user_id=user_id, properties={"amount": amount, "feature": feature or None}
            )

    transaction.on_commit(report)


# --- grant lots: credits in, credits out --------------------------------------------------


def grant(
    *,
    account: CreditAccount,
    kind: TransferKind,
    amount: int,
    debit: CreditAccount,
    idempotency_key: str,
    memo: str,
    actor: User | None = None,
    expires_at: datetime | None = None,
    priority: int = 0,
    feature: str = "",
    job_ref: str = "",
    movement: CreditMovement = "granted",
    event: ProductEvent | None = "credits_granted",
) -> Transfer:
    """Credit `amount` to the user `account` from `debit` as a new grant lot; assumes the lock.

    Every way credits come in goes through here: grants and purchases, the sign-up bonus, the
    monthly free tier, refunds and positive adjustments.
    """
    transfer = record(
        kind=kind,
        debit=debit,
        credit=account,
        amount=amount,
        idempotency_key=idempotency_key,
        expires_at=expires_at,
        feature=feature,
        job_ref=job_ref,
        memo=memo,
        actor=actor,
    )
    CreditGrant.objects.create(
        account=account,
        transfer=transfer,
        amount=amount,
        remaining=amount,
        priority=priority,
        expires_at=expires_at,
        created_at=transfer.created_at,
    )
    after_commit(
        movement=movement, event=event, user_id=account.user_id, amount=amount, feature=feature
    )
    return transfer


def spend(
    *,
    account: CreditAccount,
    kind: TransferKind,
    amount: int,
    credit: CreditAccount,
    idempotency_key: str,
    now: datetime,
    expires_at: datetime | None = None,
    feature: str = "",
    job_ref: str = "",
    memo: str = "",
    actor: User | None = None,
) -> Transfer:
    """Debit `amount` of the user `account`'s available credits to `credit`; assumes the lock.

    The credits are drawn from the account's grants in consumption order; grants past their
    expiry are expired first, so they are never spent. Raises InsufficientCredits, having
    recorded nothing but those expiries, when the available balance does not cover `amount`.
    """
    if expire_due_grants(account=account, now=now)[1]:
        account.refresh_from_db()
    if account.available < amount:
        raise insufficient(required=amount, available=account.available)
    transfer = record(
        kind=kind,
        debit=account,
        credit=credit,
        amount=amount,
        idempotency_key=idempotency_key,
        expires_at=expires_at,
        feature=feature,
        job_ref=job_ref,
        memo=memo,
        actor=actor,
    )
    draw_down(account=account, transfer=transfer, amount=amount, now=now)
    return transfer


def _open_grants(account: CreditAccount, now: datetime) -> Iterable[CreditGrant]:
    """Grants that can still be spent, in consumption order: priority, earliest expiry, age."""
    return (
        CreditGrant.objects.filter(account=account, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-priority", F("expires_at").asc(nulls_last=True), "created_at", "pk")
    )


def draw_down(*, account: CreditAccount, transfer: Transfer, amount: int, now: datetime) -> None:
    """Take `amount` from the account's grants in consumption order; assumes the account lock."""
    left = amount
    for lot in _open_grants(account, now):
        take = min(lot.remaining, left)
        GrantDrawdown.objects.create(grant=lot, transfer=transfer, amount=take)
        CreditGrant.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        left -= take
        if left == 0:
            return
    # Only reachable if grants and balances disagree, which reconciliation reports as drift.
    raise RuntimeError(f"Grants of account {account.pk} cover {amount - left} of {amount}.")


def give_back(*, reservation: Transfer, transfer: Transfer, amount: int) -> None:
    """Return `amount` of a reservation to the grants it came from, last drawn first."""
    left = amount
    drawn = GrantDrawdown.objects.filter(transfer=reservation, amount__gt=0).order_by("-pk")
    for drawdown in drawn:
        give = min(drawdown.amount, left)
        GrantDrawdown.objects.create(grant_id=drawdown.grant_id, transfer=transfer, amount=-give)
        CreditGrant.objects.filter(pk=drawdown.grant_id).update(remaining=F("remaining") + give)
        left -= give
        if left == 0:
            return


def expire_due_grants(*, account: CreditAccount, now: datetime) -> tuple[int, int]:
    """Expire the account's grants past their expiry; assumes the account lock.

    Returns (grants expired, credits expired).
    """
    due = list(
        CreditGrant.objects.filter(account=account, remaining__gt=0, expires_at__lte=now).order_by(
            "pk"
        )
    )
    if not due:
        return 0, 0
    grants = 0
    credits = 0
    system = system_account(AccountKind.GRANTS)
    for lot in due:
        transfer = record(
            kind=TransferKind.EXPIRY,
            debit=account,
            credit=system,
            amount=lot.remaining,
            idempotency_key=f"expiry:grant:{lot.pk}:{lot.drawdowns.count()}",
            memo=f"Grant {lot.pk} expired.",
        )
        GrantDrawdown.objects.create(grant=lot, transfer=transfer, amount=lot.remaining)
        CreditGrant.objects.filter(pk=lot.pk).update(remaining=0)
        grants += 1
        credits += lot.remaining
    if credits:
        after_commit(movement="expired", event=None, user_id=account.user_id, amount=credits)
    return grants, credits


# --- the idempotent request log ----------------------------------------------------------


@dataclass(frozen=True)
class LedgerOutcome:
    """What one keyed ledger request did: its transfer, or a refusal stored for repeats.

    The refusal is returned rather than raised so that the caller's ledger transaction commits
    its record first; `result()` raises it afterwards.
    """

    transfer: Transfer | None
    refusal: DomainError | None = None
    replayed: bool = False

    def result(self) -> Transfer:
        if self.refusal is not None:
            raise self.refusal
        if self.transfer is None:
            raise RuntimeError("An applied ledger request has no transfer.")
        return self.transfer


def apply_once(
    *,
    account: CreditAccount,
    key: str,
    operation: str,
    fingerprint: str,
    apply: Callable[[], Transfer],
) -> LedgerOutcome:
    """Run `apply` once per (account, key) and store its outcome; assumes the account lock.

    A repeat with the same operation and fingerprint gets the first transfer back
    (`replayed`), or the first refusal raised again; anything else under the key raises
    LedgerKeyReused. An InsufficientCredits refusal of `apply` is stored and returned.
    """
    request = LedgerRequest.objects.filter(account=account, idempotency_key=key).first()
    if request is not None:
        if request.operation != operation or request.fingerprint != fingerprint:
            raise LedgerKeyReused(
                "This idempotency key was already used for a different credits operation."
            )
        if request.outcome == LedgerRequest.Outcome.REFUSED:
            error_class = _STORED_REFUSALS.get(request.error_code, DomainError)
            raise error_class(request.error_detail, extra=dict(request.error_extra))
        return LedgerOutcome(transfer=request.transfer, replayed=True)
    try:
        transfer = apply()
    except InsufficientCredits as refusal:
        LedgerRequest.objects.create(
            account=account,
            idempotency_key=key,
            operation=operation,
            fingerprint=fingerprint,
            outcome=LedgerRequest.Outcome.REFUSED,
            error_code=refusal.code,
            error_detail=refusal.detail[:500],
            error_extra=refusal.extra,
        )
        return LedgerOutcome(transfer=None, refusal=refusal)
    LedgerRequest.objects.create(
        account=account,
        idempotency_key=key,
        operation=operation,
        fingerprint=fingerprint,
        outcome=LedgerRequest.Outcome.APPLIED,
        transfer=transfer,
    )
    return LedgerOutcome(transfer=transfer)


def grant_once(
    *,
    account: CreditAccount,
    amount: int,
    memo: str,
    kind: TransferKind,
    expires_at: datetime | None,
    priority: int,
    key: str,
    actor: User | None,
    per_period: bool = False,
) -> LedgerOutcome:
    """Grant credits from the grants account once per `key`; assumes the account lock.

    `per_period` grants (sign-up bonus, monthly free tier) are keyed by their period alone, so
    a changed amount setting does not turn an already granted period into a conflict.
    """
    fingerprint = f"user={account.user_id};kind={kind}"
    if not per_period:
        fingerprint += f";amount={amount}"
    return apply_once(
        account=account,
        key=key,
        operation=kind,
        fingerprint=fingerprint,
        apply=lambda: grant(
            account=account,
            kind=kind,
            amount=amount,
            debit=system_account(AccountKind.GRANTS),
            idempotency_key=f"{account.pk}:{key}",
            memo=memo,
            actor=actor,
            expires_at=expires_at,
            priority=priority,
        ),
    )
