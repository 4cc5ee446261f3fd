"""State changes of the credits ledger: accounts, grants, expiry, refunds and adjustments.

Every service is one transaction under the user's account lock; the locking contract and the
posting primitives are in `billing.postings`. Reserving, capturing and releasing credits for a
job are in `billing.reservations` and importable from here too.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from accounts.models import User
from accounts.selectors import plan_for_user
from billing.errors import (
    AdjustmentRefused,
    InsufficientCredits,
    JobAlreadyReserved,
    LedgerKeyReused,
    NothingToRefund,
    ReservationNotFound,
    ReservationReleased,
)
from billing.grants import (
    apply_once,
    expire_due_grants,
    grant,
    grant_once,
    lock_user_account,
    spend,
)
from billing.models import (
    AccountKind,
    CreditAccount,
    CreditGrant,
    FeatureUsage,
    Transfer,
    TransferKind,
    UsageUnit,
)
from billing.postings import (
    ledger_transaction,
    lock_account,
    system_account,
)
from billing.reservations import (
    Settlement,
    credits_capture,
    credits_release,
    credits_release_stale,
    credits_reserve,
    validate_feature,
)

__all__ = [
    "AdjustmentRefused",
    "ExpiryResult",
    "InsufficientCredits",
    "JobAlreadyReserved",
    "LedgerKeyReused",
    "NothingToRefund",
    "ReservationNotFound",
    "ReservationReleased",
    "Settlement",
    "credit_account_open",
    "credits_adjust",
    "credits_capture",
    "credits_expire",
    "credits_grant",
    "credits_grant_monthly",
    "credits_grant_monthly_all",
    "credits_refund",
    "credits_release",
    "credits_release_stale",
    "credits_reserve",
    "feature_usage_record_free",
]

logger = logging.getLogger(__name__)

MONTHLY_GRANT_PRIORITY = 20


@dataclass(frozen=True)
class ExpiryResult:
    grants_expired: int
    credits_expired: int
    reservations_released: int


# --- accounts and grants -----------------------------------------------------------------


def credit_account_open(*, user: User) -> CreditAccount:
    """Return `user`'s credit account, opening it with the sign-up bonus the first time.

    Safe to call on every page that shows credits: an open account is returned as it is,
    without taking its lock; the opening itself is `lock_user_account`'s, granting the bonus
    exactly once however many first calls race.
    """
    account = CreditAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    with ledger_transaction():
        account = lock_user_account(user)
    return account


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
    """Grant credits under the account lock; return the transfer and whether it is new."""
    if amount <= 0:
        raise ValueError("A grant must be a positive number of credits.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("A grant cannot expire in the past.")
    with ledger_transaction():
        account = lock_user_account(user)
        outcome = grant_once(
            account=account,
            amount=amount,
            memo=memo,
            kind=kind,
            expires_at=expires_at,
            priority=priority,
            key=idempotency_key or f"{kind}:{uuid.uuid4()}",
            actor=actor,
            per_period=per_period,
        )
    return outcome.result(), not outcome.replayed


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


def _month_start(moment: datetime, months_ahead: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months_ahead
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=moment.tzinfo)


def _grant_month(*, user: User, amount: int, moment: datetime) -> tuple[Transfer, bool]:
    return _grant(
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


def credits_grant_monthly(*, user: User, now: datetime | None = None) -> Transfer | None:
    """Grant this month's free credits once per user and calendar month (UTC).

    The credits expire at the end of the next month. Returns the grant transfer (the first
    one when the month was already granted), or None when the free tier is set to zero.
    """
    amount = plan_for_user(user=user).monthly_free_credits
    if amount <= 0:
        return None
    moment = (now or timezone.now()).astimezone(UTC)
    transfer, _ = _grant_month(user=user, amount=amount, moment=moment)
    return transfer


def credits_grant_monthly_all(*, now: datetime | None = None) -> int:
    """Grant the monthly free credits to every active, confirmed user; return how many were new.

    An account whose sign-up email is not confirmed gets nothing: confirming opens its credits.
    """
    moment = (now or timezone.now()).astimezone(UTC)
    granted = 0
    users = User.objects.filter(is_active=True, email_confirmed_at__isnull=False)
    for user in list(users.select_related("plan").order_by("pk")):
        # Each user's plan says how many; a plan of zero grants nothing.
        amount = plan_for_user(user=user).monthly_free_credits
        if amount <= 0:
            continue
        _, created = _grant_month(user=user, amount=amount, moment=moment)
        granted += int(created)
    return granted


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
        with ledger_transaction():
            account = lock_account(account_id)
            expired_grants, expired_credits = expire_due_grants(account=account, now=moment)
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
    with ledger_transaction():
        # Under the lock, a second refund of the job sees the first and returns it.
        account = lock_account(capture.debit_account_id)
        existing = Transfer.objects.filter(
            job_ref=job_ref, feature=feature, kind=TransferKind.REFUND
        ).first()
        if existing is not None:
            return existing
        return grant(
            account=account,
            kind=TransferKind.REFUND,
            amount=refund_amount,
            debit=system_account(AccountKind.REVENUE),
            idempotency_key=f"refund:{feature}:{job_ref}",
            memo=reason,
            actor=actor,
            feature=feature,
            job_ref=job_ref,
            movement="refunded",
            event=None,
        )


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
    with ledger_transaction():
        account = lock_user_account(user)

        def adjust() -> Transfer:
            system = system_account(AccountKind.GRANTS)
            if amount > 0:
                return grant(
                    account=account,
                    kind=TransferKind.ADJUSTMENT,
                    amount=amount,
                    debit=system,
                    idempotency_key=f"{account.pk}:{key}",
                    memo=reason,
                    actor=actor,
                )
            return spend(
                account=account,
                kind=TransferKind.ADJUSTMENT,
                amount=-amount,
                credit=system,
                idempotency_key=f"{account.pk}:{key}",
                now=timezone.now(),
                memo=reason,
                actor=actor,
            )

        outcome = apply_once(
            account=account,
            key=key,
            operation="adjustment",
            fingerprint=f"user={user.pk};amount={amount}",
            apply=adjust,
        )
    transfer = outcome.result()
    if not outcome.replayed:
        logger.info("credits adjusted", extra={"amount": amount, "actor_id": actor.pk})
    return transfer


def feature_usage_record_free(
    *, user: User, feature: str, job_ref: str, usage_quantity: int, usage_unit: str
) -> FeatureUsage:
    """Record a use that costs nothing (a cache hit of an existing analysis), once per job.

    Returns the existing row when the job's usage was already recorded.
    """
    validate_feature(feature)
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
