"""State changes of the credits ledger.

Every service is one transaction. Each takes the user's `CreditAccount` row lock
(`SELECT ... FOR UPDATE`) before it reads anything it decides on, so two movements of one
account never interleave: that is what prevents lost updates (two reads of one balance both
deciding to spend it), double settlement (a capture racing the expiry sweep) and double
replay of an idempotency key. Locks are always taken in the same order, the one user account
first and then the system accounts in primary-key order (see `_ledger_transaction`), so two
transactions can never wait on each other in a cycle. The CHECK constraints on
`CreditAccount` are the backstop.

Billing does not know what a job is: callers pass a `job_ref` string (e.g. "analysis:<uuid>")
and a `feature`. A reservation is unique per (job_ref, feature), and so are its capture and
release, so one job can never be charged twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import plan_for_user
from billing.models import (
    AccountKind,
    CreditAccount,
    CreditGrant,
    Feature,
    FeatureUsage,
    GrantDrawdown,
    LedgerRequest,
    Transfer,
    TransferKind,
    UsageUnit,
)
from billing.notices import credits_low_check
from core.api.exceptions import DomainError
from telemetry.reporting import CreditMovement, ProductEvent, emit_event, observe_credits

logger = logging.getLogger(__name__)

SIGNUP_BONUS_KEY = "signup-bonus"
MONTHLY_GRANT_PRIORITY = 20
SIGNUP_BONUS_PRIORITY = 10


class InsufficientCredits(DomainError):
    code = "insufficient_credits"
    status = 402
    title = "Insufficient credits"


class ReservationNotFound(DomainError):
    code = "reservation_not_found"
    status = 409


class ReservationReleased(DomainError):
    code = "reservation_released"
    status = 409


class JobAlreadyReserved(DomainError):
    code = "job_already_reserved"
    status = 409


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    status = 409


class LedgerKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422


class AdjustmentRefused(DomainError):
    code = "adjustment_refused"
    status = 403


_STORED_REFUSALS: dict[str, type[DomainError]] = {InsufficientCredits.code: InsufficientCredits}


@dataclass(frozen=True)
class Settlement:
    """How a reservation ended: credits captured and released, in credits.

    `replayed` is True when the reservation had already been settled by an earlier call and
    this call changed nothing.
    """

    job_ref: str
    feature: str
    captured: int
    released: int
    replayed: bool


@dataclass(frozen=True)
class ExpiryResult:
    grants_expired: int
    credits_expired: int
    reservations_released: int


# --- locking and bookkeeping -------------------------------------------------------------


def _system_account(kind: AccountKind) -> CreditAccount:
    account, _ = CreditAccount.objects.get_or_create(kind=kind, user=None)
    return account


def _lock_user_account(user: User) -> CreditAccount:
    """Return `user`'s account locked FOR UPDATE, opening it for users created before billing.

    Two first movements of one user may both find no account; the unique user column makes
    one INSERT win and get_or_create re-reads the winner's row, which is then locked.
    """
    account = CreditAccount.objects.select_for_update().filter(user=user).first()
    if account is None:
        CreditAccount.objects.get_or_create(user=user, defaults={"kind": AccountKind.USER})
        account = CreditAccount.objects.select_for_update().get(user=user)
    return account


def _lock_account(pk: int) -> CreditAccount:
    return CreditAccount.objects.select_for_update().get(pk=pk)


_postings: ContextVar[dict[int, dict[str, int]] | None] = ContextVar(
    "billing_system_postings", default=None
)


@contextmanager
def _ledger_transaction() -> Iterator[None]:
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


def _record(
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
        raise RuntimeError("Ledger transfers are recorded inside _ledger_transaction().")
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


def _after_commit(
    *,
    movement: CreditMovement | None,
    event: ProductEvent | None,
    user_id: int | None,
    amount: int,
    feature: str = "",
) -> None:
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


def _open_grants(account: CreditAccount, now: datetime) -> Iterable[CreditGrant]:
    """Grants that can still be spent, in consumption order: priority, earliest expiry, age."""
    return (
        CreditGrant.objects.filter(account=account, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-priority", F("expires_at").asc(nulls_last=True), "created_at", "pk")
    )


def _draw_down(*, account: CreditAccount, transfer: Transfer, amount: int, now: datetime) -> None:
    """Take `amount` from the account's grants in consumption order; assumes the account lock."""
    left = amount
    for grant in _open_grants(account, now):
        take = min(grant.remaining, left)
        GrantDrawdown.objects.create(grant=grant, transfer=transfer, amount=take)
        CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") - take)
        left -= take
        if left == 0:
            return
    # Only reachable if grants and balances disagree, which reconciliation reports as drift.
    raise RuntimeError(f"Grants of account {account.pk} cover {amount - left} of {amount}.")


def _give_back(*, reservation: Transfer, transfer: Transfer, amount: int) -> None:
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


def _expire_due_grants(*, account: CreditAccount, now: datetime) -> tuple[int, int]:
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
    system = _system_account(AccountKind.GRANTS)
    for grant in due:
        transfer = _record(
            kind=TransferKind.EXPIRY,
            debit=account,
            credit=system,
            amount=grant.remaining,
            idempotency_key=f"expiry:grant:{grant.pk}:{grant.drawdowns.count()}",
            memo=f"Grant {grant.pk} expired.",
        )
        GrantDrawdown.objects.create(grant=grant, transfer=transfer, amount=grant.remaining)
        CreditGrant.objects.filter(pk=grant.pk).update(remaining=0)
        grants += 1
        credits += grant.remaining
    if credits:
        _after_commit(movement="expired", event=None, user_id=account.user_id, amount=credits)
    return grants, credits


def _replay(
    *, account: CreditAccount, key: str, operation: str, fingerprint: str
) -> LedgerRequest | None:
    """Return the stored outcome of `key`, raising its refusal again; assumes the lock."""
    request = LedgerRequest.objects.filter(account=account, idempotency_key=key).first()
    if request is None:
        return None
    if request.operation != operation or request.fingerprint != fingerprint:
        raise LedgerKeyReused(
            "This idempotency key was already used for a different credits operation."
        )
    if request.outcome == LedgerRequest.Outcome.REFUSED:
        error_class = _STORED_REFUSALS.get(request.error_code, DomainError)
        raise error_class(request.error_detail, extra=dict(request.error_extra))
    return request


def _store_refusal(
    *, account: CreditAccount, key: str, operation: str, fingerprint: str, error: DomainError
) -> None:
    LedgerRequest.objects.create(
        account=account,
        idempotency_key=key,
        operation=operation,
        fingerprint=fingerprint,
        outcome=LedgerRequest.Outcome.REFUSED,
        error_code=error.code,
        error_detail=error.detail[:500],
        error_extra=error.extra,
    )


def _store_applied(
    *, account: CreditAccount, key: str, operation: str, fingerprint: str, transfer: Transfer
) -> None:
    LedgerRequest.objects.create(
        account=account,
        idempotency_key=key,
        operation=operation,
        fingerprint=fingerprint,
        outcome=LedgerRequest.Outcome.APPLIED,
        transfer=transfer,
    )


def _insufficient(*, required: int, available: int) -> InsufficientCredits:
    return InsufficientCredits(
        f"This needs {required} credits; {available} are available.",
        extra={"required": required, "available": available},
    )


def _validate_feature(feature: str) -> None:
    if feature not in Feature.values:
        raise ValueError(f"Unknown feature {feature!r}.")


# --- grants ------------------------------------------------------------------------------


def _grant(
    *,
    user: User,
    amount: int,
    memo: str,
    kind: TransferKind,
    expires_at: datetime | None,
    priority: int,
    idempotency_key: str | None,
    actor: User | None,
    per_period: bool = False,
) -> tuple[Transfer, bool]:
    """Grant credits under the account lock; return the transfer and whether it is new.

    `per_period` grants (sign-up bonus, monthly free tier) are keyed by their period alone, so
    a changed amount setting does not turn an already granted period into a conflict.
    """
    if amount <= 0:
        raise ValueError("A grant must be a positive number of credits.")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValueError("A grant cannot expire in the past.")
    key = idempotency_key or f"{kind}:{uuid.uuid4()}"
    fingerprint = f"user={user.pk};kind={kind}"
    if not per_period:
        fingerprint += f";amount={amount}"
    with _ledger_transaction():
        account = _lock_user_account(user)
        replayed = _replay(account=account, key=key, operation=kind, fingerprint=fingerprint)
        if replayed is not None and replayed.transfer is not None:
            return replayed.transfer, False
        transfer = _record(
            kind=kind,
            debit=_system_account(AccountKind.GRANTS),
            credit=account,
            amount=amount,
            idempotency_key=f"{account.pk}:{key}",
            expires_at=expires_at,
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
        _store_applied(
            account=account, key=key, operation=kind, fingerprint=fingerprint, transfer=transfer
        )
        _after_commit(movement="granted", event="credits_granted", user_id=user.pk, amount=amount)
    return transfer, True


def credits_grant(
    *,
    user: User,
    amount: int,
    reason: str,
    expires_at: datetime | None = None,
    priority: int = 0,
    idempotency_key: str | None = None,
    actor: User | None = None,
    purchase: bool = False,
) -> Transfer:
    """Grant `amount` credits to `user`, optionally expiring, and return the grant transfer.

    Higher `priority` is spent first. With an `idempotency_key`, a repeat returns the first
    transfer and grants nothing. `purchase` records bought credits (kind `purchase`). Raises
    ValueError for a non-positive amount or an expiry in the past.
    """
    transfer, _ = _grant(
        user=user,
        amount=amount,
        memo=reason,
        kind=TransferKind.PURCHASE if purchase else TransferKind.GRANT,
        expires_at=expires_at,
        priority=priority,
        idempotency_key=idempotency_key,
        actor=actor,
    )
    return transfer


def credit_account_open(*, user: User) -> CreditAccount:
    """Open `user`'s credit account and grant the sign-up bonus once; safe to call again."""
    with _ledger_transaction():
        account = _lock_user_account(user)
        bonus = int(settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS)
        if bonus > 0:
            _grant(
                user=user,
                amount=bonus,
                memo="Sign-up bonus",
                kind=TransferKind.GRANT,
                expires_at=None,
                priority=SIGNUP_BONUS_PRIORITY,
                idempotency_key=SIGNUP_BONUS_KEY,
                actor=None,
                per_period=True,
            )
    account.refresh_from_db()
    return account


def _month_start(moment: datetime, months_ahead: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months_ahead
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=moment.tzinfo)


def credits_grant_monthly(*, user: User, now: datetime | None = None) -> Transfer | None:
    """Grant this month's free credits once per user and calendar month (UTC).

    The credits expire at the end of the next month. Returns the grant transfer (the first
    one when the month was already granted), or None when the free tier is set to zero.
    """
    amount = plan_for_user(user=user).monthly_free_credits
    if amount <= 0:
        return None
    moment = (now or timezone.now()).astimezone(UTC)
    transfer, _ = _grant(
        user=user,
        amount=amount,
        memo=f"Free credits for {moment:%Y-%m}",
        kind=TransferKind.GRANT,
        expires_at=_month_start(moment, 2),
        priority=MONTHLY_GRANT_PRIORITY,
        idempotency_key=f"monthly:{moment:%Y-%m}",
        actor=None,
        per_period=True,
    )
    return transfer


def credits_grant_monthly_all(*, now: datetime | None = None) -> int:
    """Grant the monthly free credits to every active user; return how many were new."""
    moment = (now or timezone.now()).astimezone(UTC)
    granted = 0
    for user in list(User.objects.filter(is_active=True).select_related("plan").order_by("pk")):
        # Each user's plan says how many; a plan of zero grants nothing.
        amount = plan_for_user(user=user).monthly_free_credits
        if amount <= 0:
            continue
        _, created = _grant(
            user=user,
            amount=amount,
            memo=f"Free credits for {moment:%Y-%m}",
            kind=TransferKind.GRANT,
            expires_at=_month_start(moment, 2),
            priority=MONTHLY_GRANT_PRIORITY,
            idempotency_key=f"monthly:{moment:%Y-%m}",
            actor=None,
            per_period=True,
        )
        granted += int(created)
    return granted


# --- two-phase: reserve, capture, release -------------------------------------------------


def credits_reserve(
    *,
    user: User,
    amount: int,
    feature: str,
    job_ref: str,
    idempotency_key: str | None = None,
    expires_at: datetime | None = None,
) -> Transfer:
    """Hold `amount` credits of `user` for the job `job_ref`; return the pending transfer.

    Call it inside the transaction that creates the job, so a job never exists without its
    reservation or the reverse. The hold lasts until `credits_capture`, `credits_release` or
    the sweep after `expires_at` (default: now + PHONOGLYPH_CREDIT_RESERVATION_TTL_MINUTES).

    Idempotent: the key defaults to one derived from (feature, job_ref); replaying a key
    returns the first reservation, or raises the first refusal again (when the caller's
    transaction committed it). Raises InsufficientCredits (402, extra `required` and
    `available`) when the balance does not cover `amount`, JobAlreadyReserved when the job
    already holds a reservation under another key, LedgerKeyReused when the key was used for
    something else, and ValueError for a non-positive amount, an unknown feature or an
    `expires_at` in the past.
    """
    if amount <= 0:
        raise ValueError("A reservation must be a positive number of credits.")
    _validate_feature(feature)
    if not job_ref:
        raise ValueError("A reservation needs a job reference.")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(minutes=settings.PHONOGLYPH_CREDIT_RESERVATION_TTL_MINUTES)
    elif expires_at <= now:
        raise ValueError("A reservation cannot expire in the past.")
    key = idempotency_key or f"reserve:{feature}:{job_ref}"
    fingerprint = f"amount={amount};feature={feature};job_ref={job_ref}"
    refusal: InsufficientCredits | None = None
    with _ledger_transaction():
        # The lock serializes every movement of this account: without it, two reservations
        # could both read the same available balance and together overspend it.
        account = _lock_user_account(user)
        replayed = _replay(account=account, key=key, operation="reserve", fingerprint=fingerprint)
        if replayed is not None and replayed.transfer is not None:
            return replayed.transfer
        if Transfer.objects.filter(
            job_ref=job_ref, feature=feature, kind=TransferKind.RESERVE
        ).exists():
            raise JobAlreadyReserved(f"{job_ref} already holds a {feature} reservation.")
        if _expire_due_grants(account=account, now=now)[1]:
            account.refresh_from_db()
        if account.available < amount:
            refusal = _insufficient(required=amount, available=account.available)
            _store_refusal(
                account=account,
                key=key,
                operation="reserve",
                fingerprint=fingerprint,
                error=refusal,
            )
        else:
            transfer = _record(
                kind=TransferKind.RESERVE,
                debit=account,
                credit=_system_account(AccountKind.REVENUE),
                amount=amount,
                idempotency_key=f"{account.pk}:{key}",
                expires_at=expires_at,
                feature=feature,
                job_ref=job_ref,
            )
            _draw_down(account=account, transfer=transfer, amount=amount, now=now)
            _store_applied(
                account=account,
                key=key,
                operation="reserve",
                fingerprint=fingerprint,
                transfer=transfer,
            )
            _after_commit(
                movement="reserved",
                event="credits_reserved",
                user_id=user.pk,
                amount=amount,
                feature=feature,
            )
    if refusal is not None:
        raise refusal
    return transfer


def _reservation(*, job_ref: str, feature: str) -> Transfer | None:
    return (
        Transfer.objects.select_related("debit_account")
        .filter(job_ref=job_ref, feature=feature, kind=TransferKind.RESERVE)
        .first()
    )


def _settled(reservation: Transfer) -> Settlement | None:
    """The reservation's settlement if it has one; assumes its account's lock is held."""
    settlements = {t.kind: t.amount for t in Transfer.objects.filter(pending=reservation)}
    captured_usage = FeatureUsage.objects.filter(
        job_ref=reservation.job_ref, feature=reservation.feature
    ).exists()
    if not settlements and not captured_usage:
        return None
    return Settlement(
        job_ref=reservation.job_ref,
        feature=reservation.feature,
        captured=settlements.get(TransferKind.CAPTURE, 0),
        released=settlements.get(TransferKind.RELEASE, 0),
        replayed=True,
    )


def _release(
    *, reservation: Transfer, amount: int, memo: str, revenue: CreditAccount | None = None
) -> Transfer:
    """Void `amount` of a reservation and return it to its grants; assumes the lock."""
    account = reservation.debit_account
    transfer = _record(
        kind=TransferKind.RELEASE,
        debit=account,
        credit=revenue or _system_account(AccountKind.REVENUE),
        amount=amount,
        idempotency_key=f"release:{reservation.feature}:{reservation.job_ref}",
        pending=reservation,
        feature=reservation.feature,
        job_ref=reservation.job_ref,
        memo=memo,
    )
    _give_back(reservation=reservation, transfer=transfer, amount=amount)
    # Credits handed back to a grant that expired while they were held expire right away.
    _expire_due_grants(account=account, now=timezone.now())
    _after_commit(
        movement="released",
        event="credits_released",
        user_id=account.user_id,
        amount=amount,
        feature=reservation.feature,
    )
    return transfer


def credits_capture(
    *,
    job_ref: str,
    feature: str,
    amount: int | None = None,
    usage_quantity: int,
    usage_unit: str = UsageUnit.AUDIO_SECONDS,
) -> Settlement:
    """Charge the reservation of (`job_ref`, `feature`) and record the feature usage.

    `amount` None captures the whole reservation; a smaller amount (0 included) captures that
    and returns the rest to the user. The `FeatureUsage` row (cost = credits captured) is
    written in the same transaction. Idempotent per (job_ref, feature): a task delivered
    twice gets the first settlement back with `replayed=True`.

    Raises ReservationNotFound when the job holds no reservation, ReservationReleased when it
    was already released (cancelled, failed or expired), and ValueError for an amount outside
    0..reserved or a negative usage quantity.
    """
    if usage_quantity < 0:
        raise ValueError("Usage quantity cannot be negative.")
    if usage_unit not in UsageUnit.values:
        raise ValueError(f"Unknown usage unit {usage_unit!r}.")
    reservation = _reservation(job_ref=job_ref, feature=feature)
    if reservation is None:
        raise ReservationNotFound(f"{job_ref} holds no {feature} reservation.")
    if amount is not None and not 0 <= amount <= reservation.amount:
        raise ValueError(f"Capture must be between 0 and the reserved {reservation.amount}.")
    captured = reservation.amount if amount is None else amount
    with _ledger_transaction():
        # Under the lock, exactly one of a capture and a release (or the expiry sweep) sees
        # the reservation unsettled; the other sees its settlement and does nothing.
        account = _lock_account(reservation.debit_account_id)
        reservation.debit_account = account
        settled = _settled(reservation)
        if settled is not None:
            if settled.captured == 0 and settled.released == reservation.amount:
                was_capture = FeatureUsage.objects.filter(job_ref=job_ref, feature=feature).exists()
                if not was_capture:
                    raise ReservationReleased(
                        f"The {feature} reservation of {job_ref} was already released."
                    )
            return settled
        capture: Transfer | None = None
        revenue = _system_account(AccountKind.REVENUE)
        if captured > 0:
            capture = _record(
                kind=TransferKind.CAPTURE,
                debit=account,
                credit=revenue,
                amount=captured,
                idempotency_key=f"capture:{feature}:{job_ref}",
                pending=reservation,
                feature=feature,
                job_ref=job_ref,
            )
            _after_commit(
                movement="captured",
                event="credits_captured",
                user_id=account.user_id,
                amount=captured,
                feature=feature,
            )
        rest = reservation.amount - captured
        if rest > 0:
            _release(
                reservation=reservation, amount=rest, memo="Not used by the job.", revenue=revenue
            )
        if account.user_id is None:
            raise RuntimeError(f"Reservation {reservation.pk} debited a system account.")
        FeatureUsage.objects.create(
            user_id=account.user_id,
            feature=feature,
            quantity=usage_quantity,
            unit=usage_unit,
            cost=captured,
            job_ref=job_ref,
            transfer=capture,
        )
    return Settlement(
        job_ref=job_ref, feature=feature, captured=captured, released=rest, replayed=False
    )


def credits_release(*, job_ref: str, feature: str, reason: str = "") -> Settlement:
    """Return the whole reservation of (`job_ref`, `feature`) to the user.

    For a failed or cancelled job. Idempotent: a reservation already settled (released, or
    captured because the job finished first) is left alone and its settlement returned with
    `replayed=True`; a job that never reserved anything returns a zero settlement.
    """
    reservation = _reservation(job_ref=job_ref, feature=feature)
    if reservation is None:
        return Settlement(job_ref=job_ref, feature=feature, captured=0, released=0, replayed=True)
    with _ledger_transaction():
        account = _lock_account(reservation.debit_account_id)
        reservation.debit_account = account
        settled = _settled(reservation)
        if settled is not None:
            return settled
        _release(reservation=reservation, amount=reservation.amount, memo=reason or "Released.")
    return Settlement(
        job_ref=job_ref,
        feature=feature,
        captured=0,
        released=reservation.amount,
        replayed=False,
    )


def _release_if_open(reservation: Transfer, memo: str) -> bool:
    with _ledger_transaction():
        account = _lock_account(reservation.debit_account_id)
        reservation.debit_account = account
        if _settled(reservation) is not None:
            return False
        _release(reservation=reservation, amount=reservation.amount, memo=memo)
    return True


def credits_release_stale(
    *, is_job_alive: Callable[[str], bool] | None = None, now: datetime | None = None
) -> int:
    """Release reservations past `expires_at` or whose job is gone; return how many.

    `is_job_alive(job_ref)` is supplied by the caller that knows what jobs are; without it
    only expired reservations are released. Each release is its own transaction and
    re-checks under the account lock, so a capture that wins the race is never undone.
    """
    moment = now or timezone.now()
    open_reservations = Transfer.objects.select_related("debit_account").filter(
        kind=TransferKind.RESERVE, settlements__isnull=True
    )
    if is_job_alive is None:
        open_reservations = open_reservations.filter(expires_at__lte=moment)
    released = 0
    for reservation in list(open_reservations.order_by("pk")):
        expired = reservation.expires_at is not None and reservation.expires_at <= moment
        if expired:
            memo = "Reservation expired."
        elif is_job_alive is not None and not is_job_alive(reservation.job_ref):
            memo = "The job is gone."
        else:
            continue
        released += int(_release_if_open(reservation, memo))
    return released


def credits_expire(*, now: datetime | None = None) -> ExpiryResult:
    """Expire grants past their expiry and release reservations past `expires_at`."""
    moment = now or timezone.now()
    # Reservations first: their credits return to grants that may be expiring now too.
    released = credits_release_stale(now=moment)
    account_ids = (
        CreditGrant.objects.filter(remaining__gt=0, expires_at__lte=moment)
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    grants = 0
    credits = 0
    for account_id in list(account_ids):
        with _ledger_transaction():
            account = _lock_account(account_id)
            expired_grants, expired_credits = _expire_due_grants(account=account, now=moment)
        grants += expired_grants
        credits += expired_credits
    return ExpiryResult(
        grants_expired=grants, credits_expired=credits, reservations_released=released
    )


# --- refunds and adjustments --------------------------------------------------------------


def credits_refund(
    *, job_ref: str, feature: str, reason: str, amount: int | None = None, actor: User | None = None
) -> Transfer:
    """Give back credits captured for (`job_ref`, `feature`), once per job and feature.

    `amount` None refunds the whole capture. The refunded credits become a grant that does
    not expire. A repeat returns the first refund. Raises NothingToRefund when nothing was
    captured, and ValueError for an amount outside 1..captured.
    """
    capture = (
        Transfer.objects.select_related("debit_account")
        .filter(job_ref=job_ref, feature=feature, kind=TransferKind.CAPTURE)
        .first()
    )
    if capture is None:
        raise NothingToRefund(f"Nothing was charged for {feature} of {job_ref}.")
    refund_amount = capture.amount if amount is None else amount
    if not 0 < refund_amount <= capture.amount:
        raise ValueError(f"A refund must be between 1 and the captured {capture.amount}.")
    with _ledger_transaction():
        account = _lock_account(capture.debit_account_id)
        existing = Transfer.objects.filter(
            job_ref=job_ref, feature=feature, kind=TransferKind.REFUND
        ).first()
        if existing is not None:
            return existing
        transfer = _record(
            kind=TransferKind.REFUND,
            debit=_system_account(AccountKind.REVENUE),
            credit=account,
            amount=refund_amount,
            idempotency_key=f"refund:{feature}:{job_ref}",
            feature=feature,
            job_ref=job_ref,
            memo=reason,
            actor=actor,
        )
        CreditGrant.objects.create(
            account=account,
            transfer=transfer,
            amount=refund_amount,
            remaining=refund_amount,
            created_at=transfer.created_at,
        )
        _after_commit(
            movement="refunded",
            event=None,
            user_id=account.user_id,
            amount=refund_amount,
            feature=feature,
        )
    return transfer


def credits_adjust(
    *,
    user: User,
    amount: int,
    reason: str,
    actor: User,
    idempotency_key: str | None = None,
) -> Transfer:
    """Correct `user`'s balance by `amount` credits (positive adds, negative removes).

    Only staff may adjust, and only with a reason; the staff user is recorded as the actor.
    A removal cannot take more than is available (InsufficientCredits). Raises
    AdjustmentRefused for a non-staff actor or an empty reason, ValueError for zero.
    """
    if not actor.is_staff:
        raise AdjustmentRefused("Only staff may adjust credits.")
    reason = reason.strip()
    if not reason:
        raise AdjustmentRefused("An adjustment needs a reason.")
    if amount == 0:
        raise ValueError("An adjustment must change the balance.")
    key = idempotency_key or f"adjustment:{uuid.uuid4()}"
    fingerprint = f"user={user.pk};amount={amount}"
    refusal: InsufficientCredits | None = None
    with _ledger_transaction():
        account = _lock_user_account(user)
        replayed = _replay(
            account=account, key=key, operation="adjustment", fingerprint=fingerprint
        )
        if replayed is not None and replayed.transfer is not None:
            return replayed.transfer
        system = _system_account(AccountKind.GRANTS)
        now = timezone.now()
        if amount > 0:
            transfer = _record(
                kind=TransferKind.ADJUSTMENT,
                debit=system,
                credit=account,
                amount=amount,
                idempotency_key=f"{account.pk}:{key}",
                memo=reason,
                actor=actor,
            )
            CreditGrant.objects.create(
                account=account,
                transfer=transfer,
                amount=amount,
                remaining=amount,
                created_at=transfer.created_at,
            )
            _after_commit(
                movement="granted", event="credits_granted", user_id=user.pk, amount=amount
            )
        else:
            if _expire_due_grants(account=account, now=now)[1]:
                account.refresh_from_db()
            if account.available < -amount:
                refusal = _insufficient(required=-amount, available=account.available)
                _store_refusal(
                    account=account,
                    key=key,
                    operation="adjustment",
                    fingerprint=fingerprint,
                    error=refusal,
                )
            else:
                transfer = _record(
                    kind=TransferKind.ADJUSTMENT,
                    debit=account,
                    credit=system,
                    amount=-amount,
                    idempotency_key=f"{account.pk}:{key}",
                    memo=reason,
                    actor=actor,
                )
                _draw_down(account=account, transfer=transfer, amount=-amount, now=now)
        if refusal is None:
            _store_applied(
                account=account,
                key=key,
                operation="adjustment",
                fingerprint=fingerprint,
                transfer=transfer,
            )
    if refusal is not None:
        raise refusal
    logger.info("credits adjusted", extra={"amount": amount, "actor_id": actor.pk})
    return transfer


def feature_usage_record_free(
    *, user: User, feature: str, job_ref: str, usage_quantity: int, usage_unit: str
) -> FeatureUsage:
    """Record a use that costs nothing (a cache hit of an existing analysis), once per job.

    Returns the existing row when the job's usage was already recorded.
    """
    _validate_feature(feature)
    if usage_unit not in UsageUnit.values:
        raise ValueError(f"Unknown usage unit {usage_unit!r}.")
    usage, _ = FeatureUsage.objects.get_or_create(
        job_ref=job_ref,
        feature=feature,
        defaults={
            "user": user,
            "quantity": usage_quantity,
            "unit": usage_unit,
            "cost": 0,
        },
    )
    return usage
