"""Grant lots, the idempotent request log, and opening a user's account.

Credits come in through `grant` alone and go out of the grants through `spend` alone, so every
credit sits in exactly one grant lot and draw-downs always find it. Everything here assumes the
account lock of `billing.postings` (`lock_user_account` takes it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import BigIntegerField, Case, Exists, F, Q, QuerySet, Subquery, Value, When

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
from billing.postings import after_commit, locking, record, remember_system_ids, system_account
from core.api.exceptions import DomainError
from telemetry.reporting import CreditMovement, ProductEvent

SIGNUP_BONUS_KEY = "signup-bonus"
SIGNUP_BONUS_PRIORITY = 10

_STORED_REFUSALS: dict[str, type[DomainError]] = {InsufficientCredits.code: InsufficientCredits}


def lock_user_account(user: User) -> CreditAccount:
    """Return `user`'s account locked FOR UPDATE, opening it on the user's first need.

    Billing opens an account the first time its user needs one (a balance shown, a
    reservation, a grant) and grants the sign-up bonus then, once: only the transaction whose
    INSERT created the row grants it, under that row's lock. Two first movements of one user
    may both find no account; the unique user column makes one INSERT win, get_or_create in
    the other re-reads the winner's row (so it grants nothing) and then waits for its lock.
    Assumes an enclosing `ledger_transaction()`.
    """
    account = locking(CreditAccount.objects.filter(user=user)).first()
    if account is not None:
        remember_system_ids(account)
        return account
    _, opened = CreditAccount.objects.get_or_create(user=user, defaults={"kind": AccountKind.USER})
    account = locking(CreditAccount.objects.filter(user=user)).get()
    remember_system_ids(account)
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
    return account


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
    lots = list(_grants_holding_credits(account))
    due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
    if due:
        expire_due_grants(account=account, now=now, due=due)
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
    draw_down(
        account=account,
        transfer=transfer,
        amount=amount,
        now=now,
        lots=[lot for lot in lots if lot not in due],
    )
    return transfer


def _grants_holding_credits(account: CreditAccount) -> QuerySet[CreditGrant]:
    """The account's grants with credits left, in consumption order: priority, earliest
    expiry, age. Those past their expiry are among them, for the caller to expire."""
    return CreditGrant.objects.filter(account=account, remaining__gt=0).order_by(
        "-priority", F("expires_at").asc(nulls_last=True), "created_at", "pk"
    )


def _move_remaining(changes: dict[int, int]) -> None:
    """Move grants' `remaining` by `changes` (grant pk -> delta) in one statement."""
    if len(changes) == 1:
        ((pk, delta),) = changes.items()
        CreditGrant.objects.filter(pk=pk).update(remaining=F("remaining") + delta)
        return
    CreditGrant.objects.filter(pk__in=list(changes)).update(
        remaining=F("remaining")
        + Case(
            *(When(pk=pk, then=Value(delta)) for pk, delta in changes.items()),
            default=Value(0),
            output_field=BigIntegerField(),
        )
    )


def draw_down(
    *,
    account: CreditAccount,
    transfer: Transfer,
    amount: int,
    now: datetime,
    lots: Iterable[CreditGrant] | None = None,
) -> None:
    """Take `amount` from the account's grants in consumption order; assumes the account lock.

    `lots` are the account's spendable grants in consumption order when the caller has them.
    """
    if lots is None:
        lots = _grants_holding_credits(account).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    left = amount
    taken: dict[int, int] = {}
    for lot in lots:
        take = min(lot.remaining, left)
        taken[lot.pk] = take
        left -= take
        if left == 0:
            break
    if left:
        # Only reachable if grants and balances disagree, which reconciliation reports as drift.
        raise RuntimeError(f"Grants of account {account.pk} cover {amount - left} of {amount}.")
    GrantDrawdown.objects.bulk_create(
        GrantDrawdown(grant_id=pk, transfer=transfer, amount=take) for pk, take in taken.items()
    )
    _move_remaining({pk: -take for pk, take in taken.items()})


def give_back(*, reservation: Transfer, transfer: Transfer, amount: int) -> list[int]:
    """Return `amount` of a reservation to the grants it came from, last drawn first.

    Returns the ids of the grants given back to.
    """
    left = amount
    given: dict[int, int] = {}
    drawn = GrantDrawdown.objects.filter(transfer=reservation, amount__gt=0).order_by("-pk")
    for grant_id, drawn_amount in drawn.values_list("grant_id", "amount"):
        give = min(drawn_amount, left)
        given[grant_id] = give
        left -= give
        if left == 0:
            break
    if given:
        GrantDrawdown.objects.bulk_create(
            GrantDrawdown(grant_id=pk, transfer=transfer, amount=-give)
            for pk, give in given.items()
        )
        _move_remaining(given)
    return list(given)


def expire_due_grants(
    *, account: CreditAccount, now: datetime, due: list[CreditGrant] | None = None
) -> tuple[int, int]:
    """Expire the account's grants past their expiry; assumes the account lock.

    `due` are those grants when the caller has read them already. Returns (grants expired,
    credits expired).
    """
    if due is None:
        due = list(
            CreditGrant.objects.filter(
                account=account, remaining__gt=0, expires_at__lte=now
            ).order_by("pk")
        )
    if not due:
        return 0, 0
    grants = 0
    credits = 0
    system = system_account(AccountKind.GRANTS)
    for lot in sorted(due, key=lambda lot: lot.pk):
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
    conflict: tuple[Exists, Callable[[], DomainError]] | None = None,
) -> LedgerOutcome:
    """Run `apply` once per (account, key) and store its outcome; assumes the account lock.

    A repeat with the same operation and fingerprint gets the first transfer back
    (`replayed`), or the first refusal raised again; anything else under the key raises
    LedgerKeyReused. An InsufficientCredits refusal of `apply` is stored and returned.
    `conflict` is a condition checked in the same statement as the key, and the error raised
    (not stored) when a new request meets it.
    """
    found = LedgerRequest.objects.filter(account=account, idempotency_key=key).values("pk")[:1]
    checks = CreditAccount.objects.filter(pk=account.pk).annotate(request_id=Subquery(found))
    if conflict is not None:
        checks = checks.annotate(conflicting=conflict[0])
    row = checks.values("request_id", "conflicting" if conflict is not None else "pk").get()
    request = (
        LedgerRequest.objects.select_related("transfer").get(pk=row["request_id"])
        if row["request_id"] is not None
        else None
    )
    if request is None and conflict is not None and row["conflicting"]:
        raise conflict[1]()
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
