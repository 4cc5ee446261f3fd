"""Reads of the credits ledger, scoped to the caller where a user asks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from billing.models import (
    POSTED_KINDS,
    CreditAccount,
    CreditGrant,
    FeatureUsage,
    GrantDrawdown,
    PriceOverride,
    SystemPosting,
    Transfer,
    TransferKind,
)
from billing.pricing import credits_cost

SETTLING_KINDS = (TransferKind.CAPTURE, TransferKind.RELEASE)
BALANCE_NAMES = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


@dataclass(frozen=True)
class CreditBalance:
    """A user's credits: spendable now, held by running jobs, and both together."""

    available: int
    reserved: int
    posted: int


@dataclass(frozen=True)
class UsageDay:
    day: date
    feature: str
    unit: str
    quantity: int
    credits: int
    uses: int


@dataclass(frozen=True)
class AccountDrift:
    """A balance its transfers do not explain; `stored` includes unfolded system postings."""

    account_id: int
    field: str
    stored: int
    expected: int


@dataclass(frozen=True)
class OrphanedReservation:
    transfer_id: int
    account_id: int
    job_ref: str
    feature: str
    amount: int
    expires_at: datetime | None


@dataclass(frozen=True)
class ReconciliationReport:
    """What `ledger_reconcile` found; `ok` is True only when there is nothing to report."""

    accounts_checked: int
    drift_accounts: tuple[AccountDrift, ...]
    total_drift: int
    debits_total: int
    credits_total: int
    pending_debits_total: int
    pending_credits_total: int
    grant_drift: tuple[int, ...]
    orphaned_reservations: tuple[OrphanedReservation, ...]

    @property
    def ok(self) -> bool:
        return (
            not self.drift_accounts
            and self.total_drift == 0
            and self.debits_total == self.credits_total
            and self.pending_debits_total == self.pending_credits_total
            and not self.grant_drift
            and not self.orphaned_reservations
        )


def credit_balance_for_user(*, user: User) -> CreditBalance:
    """Return `user`'s balance; a user without an account yet holds no credits."""
    account = CreditAccount.objects.filter(user=user).first()
    if account is None:
        return CreditBalance(available=0, reserved=0, posted=0)
    return CreditBalance(
        available=account.available, reserved=account.reserved, posted=account.posted
    )


def transfers_touching_account_of(*, user: User) -> QuerySet[Transfer]:
    """Transfers from or to `user`'s account, by its id: a condition across the two joins to
    the accounts would read every transfer instead of the two account indexes."""
    account_id = CreditAccount.objects.filter(user=user).values_list("pk", flat=True).first()
    if account_id is None:
        return Transfer.objects.none()
    return Transfer.objects.filter(Q(debit_account_id=account_id) | Q(credit_account_id=account_id))


def transfer_list_for_user(*, user: User) -> QuerySet[Transfer]:
    """Transfers touching `user`'s account, newest first."""
    return (
        transfers_touching_account_of(user=user)
        .select_related("debit_account")
        .order_by("-created_at", "-pk")
    )


def usage_by_day_for_user(
    *, user: User, start: date, end: date, feature: str | None = None
) -> list[UsageDay]:
    """`user`'s feature usage summed per UTC day and feature, from `start` to `end` inclusive."""
    rows = FeatureUsage.objects.filter(
        user=user, created_at__date__gte=start, created_at__date__lte=end
    )
    if feature:
        rows = rows.filter(feature=feature)
    summed = (
        rows.annotate(day=TruncDate("created_at"))
        .values("day", "feature", "unit")
        .annotate(quantity=Sum("quantity"), credits=Sum("cost"), uses=Count("pk"))
        .order_by("day", "feature", "unit")
    )
    return [
        UsageDay(
            day=row["day"],
            feature=row["feature"],
            unit=row["unit"],
            quantity=int(row["quantity"]),
            credits=int(row["credits"]),
            uses=int(row["uses"]),
        )
        for row in summed
    ]


def usage_by_day(*, start: date, end: date) -> list[dict[str, Any]]:
    """Usage of every user summed per UTC day and feature (the staff view)."""
    rows = (
        FeatureUsage.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
        .annotate(day=TruncDate("created_at"))
        .values("day", "feature", "unit")
        .annotate(quantity=Sum("quantity"), credits=Sum("cost"), uses=Count("pk"))
        .order_by("-day", "feature")
    )
    return [dict(row) for row in rows]


def price_for(feature: str, audio_seconds: float, *, cache_hit: bool = False) -> int:
    """Return what `audio_seconds` of `feature` cost now, honouring an admin price override.

    This is the price to show before a job starts and to reserve. A cache hit of an existing
    analysis costs nothing. Raises ValueError as `credits_cost` does.
    """
    override = PriceOverride.objects.filter(feature=feature).first()
    return credits_cost(
        feature=feature,
        audio_seconds=audio_seconds,
        per_minute=None if override is None else override.credits_per_minute,
        cache_hit=cache_hit,
    )


def _sums(queryset: QuerySet[Transfer], field: str) -> dict[int, int]:
    return {
        row[field]: int(row["total"])
        for row in queryset.values(field).annotate(total=Sum("amount")).order_by()
    }


def ledger_reconcile(*, now: datetime | None = None) -> ReconciliationReport:
    """Check every stored balance against the transfers that explain it (`_reconcile`).

    On PostgreSQL, outside any transaction, every read sees one snapshot, so movements and
    folds committed while it reads cannot show as drift.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _reconcile(now=now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _reconcile(now=now)


def _reconcile(*, now: datetime | None) -> ReconciliationReport:
    """Check every stored balance against the transfers that explain it.

    For each account, the four balances must equal the sums of its transfers: posted kinds
    and captures move posted balances; reservations open pending ones that captures and
    releases close; a system account's balances count its postings not yet folded
    (`SystemPosting`) with its row, so a posting changed or lost shows as drift there.
    System-wide, debits must equal credits. Each grant's remaining credits
    must equal its amount less its draw-downs. A reservation past `expires_at` with neither
    capture nor release is orphaned: the sweep should have released it.
    """
    moment = now or timezone.now()
    transfers = Transfer.objects.all()
    posted = transfers.filter(kind__in=(*POSTED_KINDS, TransferKind.CAPTURE))
    opened = transfers.filter(kind=TransferKind.RESERVE)
    closed = transfers.filter(kind__in=SETTLING_KINDS)

    debit_posted = _sums(posted, "debit_account_id")
    credit_posted = _sums(posted, "credit_account_id")
    debit_opened = _sums(opened, "debit_account_id")
    credit_opened = _sums(opened, "credit_account_id")
    debit_closed = _sums(closed, "debit_account_id")
    credit_closed = _sums(closed, "credit_account_id")

    drift: list[AccountDrift] = []
    totals: dict[str, int] = defaultdict(int)
    unfolded: dict[int, dict[str, int]] = {
        account_id: dict(zip(BALANCE_NAMES, map(int, sums), strict=True))
        for account_id, *sums in SystemPosting.objects.values("account_id")
        .annotate(*(Sum(name) for name in BALANCE_NAMES))
        .values_list("account_id", *(f"{name}__sum" for name in BALANCE_NAMES))
        .order_by()
    }
    accounts = list(CreditAccount.objects.order_by("pk"))
    for account in accounts:
        expected = {
            "debits_posted": debit_posted.get(account.pk, 0),
            "credits_posted": credit_posted.get(account.pk, 0),
            "debits_pending": debit_opened.get(account.pk, 0) - debit_closed.get(account.pk, 0),
            "credits_pending": credit_opened.get(account.pk, 0) - credit_closed.get(account.pk, 0),
        }
        for field, value in expected.items():
            stored = int(getattr(account, field)) + unfolded.get(account.pk, {}).get(field, 0)
            totals[field] += stored
            if stored != value:
                drift.append(
                    AccountDrift(account_id=account.pk, field=field, stored=stored, expected=value)
                )

    drawn = {
        row["grant_id"]: int(row["total"])
        for row in GrantDrawdown.objects.values("grant_id").annotate(total=Sum("amount")).order_by()
    }
    grant_drift = tuple(
        grant_id
        for grant_id, amount, remaining in CreditGrant.objects.values_list(
            "pk", "amount", "remaining"
        ).order_by("pk")
        if remaining != amount - drawn.get(grant_id, 0)
    )

    orphans = tuple(
        OrphanedReservation(
            transfer_id=reservation.pk,
            account_id=reservation.debit_account_id,
            job_ref=reservation.job_ref,
            feature=reservation.feature,
            amount=reservation.amount,
            expires_at=reservation.expires_at,
        )
        for reservation in opened.filter(settlements__isnull=True, expires_at__lte=moment).order_by(
            "pk"
        )
    )

    return ReconciliationReport(
        accounts_checked=len(accounts),
        drift_accounts=tuple(drift),
        total_drift=sum(abs(item.stored - item.expected) for item in drift),
        debits_total=totals["debits_posted"],
        credits_total=totals["credits_posted"],
        pending_debits_total=totals["debits_pending"],
        pending_credits_total=totals["credits_pending"],
        grant_drift=grant_drift,
        orphaned_reservations=orphans,
    )


def open_reservations_for_user(*, user: User) -> QuerySet[Transfer]:
    """`user`'s reservations not yet captured or released."""
    return Transfer.objects.filter(
        debit_account__user=user, kind=TransferKind.RESERVE, settlements__isnull=True
    ).order_by("-created_at")


# Usage across all users: what the ops console (monitoring) shows of billing.
# Plain values cross the boundary; no model instance or queryset leaves this module.


@dataclass(frozen=True)
class FeatureCredits:
    """Credits charged for one feature, and how many uses charged them."""

    feature: str
    credits: int
    uses: int


def usage_credits_by_feature(*, since: datetime) -> list[FeatureCredits]:
    """Credits charged per feature since `since`, most first, from the usage records."""
    rows = (
        FeatureUsage.objects.filter(created_at__gte=since)
        .values("feature")
        .annotate(credits=Sum("cost"), uses=Count("id"))
        .order_by("-credits", "feature")
    )
    return [
        FeatureCredits(feature=row["feature"], credits=int(row["credits"] or 0), uses=row["uses"])
        for row in rows
    ]
