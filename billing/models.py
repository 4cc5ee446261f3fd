"""The credits ledger: double-entry accounts, immutable transfers, grants and feature usage.

Modelled on TigerBeetle: every account stores four integer balances (posted and pending debits
and credits) that always equal the sums of the transfers touching it, and a reservation is a
two-phase pending transfer later captured (posted) or released (voided). Credits are integers,
never floats. For a user account, available = credits_posted - debits_posted - debits_pending,
and a CHECK constraint keeps it at or above zero.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Feature(models.TextChoices):
    ANALYSIS = "analysis", "Analysis"
    STEM_SEPARATION = "stem_separation", "Stem separation"
    STORAGE = "storage", "Storage"


class UsageUnit(models.TextChoices):
    AUDIO_SECONDS = "audio_seconds", "Audio seconds"
    BYTES = "bytes", "Bytes"


class AccountKind(models.TextChoices):
    USER = "user", "User"
    # Credits are minted out of GRANTS (it goes negative by design) and flow back into it when
    # they expire or are adjusted away; captured credits end in REVENUE.
    GRANTS = "grants", "System: grants"
    REVENUE = "revenue", "System: revenue"


class TransferKind(models.TextChoices):
    GRANT = "grant", "Grant"
    PURCHASE = "purchase", "Purchase"
    RESERVE = "reserve", "Reserve"
    CAPTURE = "capture", "Capture"
    RELEASE = "release", "Release"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    EXPIRY = "expiry", "Expiry"


# Kinds that move posted balances directly; RESERVE opens a pending amount that CAPTURE moves
# to posted and RELEASE voids.
POSTED_KINDS = (
    TransferKind.GRANT,
    TransferKind.PURCHASE,
    TransferKind.REFUND,
    TransferKind.ADJUSTMENT,
    TransferKind.EXPIRY,
)


class CreditAccount(models.Model):
    """One side of every transfer: a user's account, or one of the system accounts."""

    kind = models.CharField(max_length=16, choices=AccountKind.choices, default=AccountKind.USER)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_account",
    )
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=~Q(kind=AccountKind.USER)
                | Q(debits_posted__lte=models.F("credits_posted") - models.F("debits_pending")),
                name="billing_account_available_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(debits_pending__gte=0)
                & Q(debits_posted__gte=0)
                & Q(credits_pending__gte=0)
                & Q(credits_posted__gte=0),
                name="billing_account_balances_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(kind=AccountKind.USER) & Q(user__isnull=False))
                | (~Q(kind=AccountKind.USER) & Q(user__isnull=True)),
                name="billing_account_user_iff_user_kind",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=~Q(kind=AccountKind.USER),
                name="billing_account_one_per_system_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.USER:
            return f"credits of user {self.user_id}"
        return self.get_kind_display()

    @property
    def available(self) -> int:
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def reserved(self) -> int:
        return self.debits_pending

    @property
    def posted(self) -> int:
        """Credits held once every open reservation is settled: available plus reserved."""
        return self.credits_posted - self.debits_posted


class SystemPosting(models.Model):
    """A change to a system account's balances, appended instead of applied to its row.

    Every movement of a user's credits also moves a system account (grants or revenue), which
    all users share: updating that one row in each transaction would make every transaction
    wait for the previous one's commit. Movements append these rows instead, and
    `system_postings_fold` adds them to the account's row and deletes them, so a system
    account's stored balances plus its postings not yet folded always equal the sums of its
    transfers (`ledger_reconcile` checks exactly that).
    """

    # Not indexed: postings are read whole (fold, reconciliation), and every index is one more
    # write per ledger change.
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"unfolded posting {self.pk} of account {self.account_id}"


class AppendOnlyError(Exception):
    """Ledger rows are never changed or deleted; a correction is a new transfer."""


class TransferQuerySet(models.QuerySet["Transfer"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Transfers are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Transfers are append-only.")


class Transfer(models.Model):
    """An immutable movement of `amount` credits from `debit_account` to `credit_account`.

    On PostgreSQL a trigger refuses UPDATE and DELETE of this table as well, so not even raw
    SQL can rewrite history.
    """

    debit_account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="debit_transfers"
    )
    credit_account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="credit_transfers"
    )
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=TransferKind.choices)
    # Looked up through billing_transfer_settles_once_per_kind, which leads with it.
    pending = models.ForeignKey(
        "self",
        db_index=False,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlements",
        help_text="For a capture or release: the reservation it settles.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    feature = models.CharField(max_length=32, choices=Feature.choices, blank=True)
    job_ref = models.CharField(max_length=200, blank=True)
    memo = models.CharField(max_length=500, blank=True)
    # Indexed only where set (billing_tr_actor): most transfers have no actor.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Unique through billing_transfer_unique_idempotency_key: as a constraint rather than
    # `unique=True`, which would add a second index for LIKE that no query uses.
    idempotency_key = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects: ClassVar[models.Manager[Transfer]] = TransferQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(debit_account=models.F("credit_account")),
                name="billing_transfer_two_sides",
            ),
            models.UniqueConstraint(
                fields=["job_ref", "feature", "kind"],
                condition=~Q(job_ref=""),
                name="billing_transfer_once_per_job_feature_kind",
            ),
            models.UniqueConstraint(
                fields=["pending", "kind"],
                condition=Q(pending__isnull=False),
                name="billing_transfer_settles_once_per_kind",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"], name="billing_transfer_unique_idempotency_key"
            ),
        ]
        # Every transfer written adds an entry to each index, so the partial ones cover only
        # the rows their queries look for: reservations by expiry (the stale sweep and the
        # reconciliation), transfers by their actor (a staff user's adjustments).
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["expires_at"],
                condition=Q(kind=TransferKind.RESERVE),
                name="billing_tr_reserve_expiry",
            ),
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="billing_tr_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.debit_account_id} → {self.credit_account_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Transfers are append-only; record a new transfer instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Transfers are append-only; record a new transfer instead.")


class CreditGrant(models.Model):
    """A lot of credits on a user's account, consumed by priority, then expiry, then age.

    `remaining` always equals `amount` minus the sum of this grant's draw-downs.
    """

    # Looked up through billing_grant_account.
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="grants", db_index=False
    )
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="credit_grant")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    priority = models.IntegerField(default=0, help_text="Higher priority is consumed first.")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-priority", "expires_at", "created_at", "pk")
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("amount")),
                name="billing_grant_remaining_within_amount",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            # Not on `remaining`: every spend and return updates it, and an update that
            # changes no indexed column stays on its page without new index entries (HOT).
            models.Index(fields=["account"], name="billing_grant_account"),
            models.Index(fields=["expires_at"], name="billing_grant_expires"),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk}: {self.remaining}/{self.amount}"


class GrantDrawdown(models.Model):
    """Credits taken from (positive) or returned to (negative) a grant by one transfer."""

    # Looked up through billing_drawdown_once_per_grant_transfer, which leads with it.
    grant = models.ForeignKey(
        CreditGrant, on_delete=models.PROTECT, related_name="drawdowns", db_index=False
    )
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="drawdowns")
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_drawdown_not_zero"),
            models.UniqueConstraint(
                fields=["grant", "transfer"], name="billing_drawdown_once_per_grant_transfer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of grant {self.grant_id} by transfer {self.transfer_id}"


class LedgerRequest(models.Model):
    """The first outcome of an idempotency key on an account, replayed for repeats.

    A refusal is stored too, so a retried request that was refused is refused again rather
    than succeeding later with a different meaning.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        REFUSED = "refused", "Refused"

    # Looked up through billing_request_unique_key, which leads with it.
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(max_length=255)
    operation = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=500)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # Not indexed: no query looks a request up by its transfer, and transfers are never
    # deleted, so the foreign key never needs to find the requests of one either.
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    error_extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="billing_request_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} [{self.idempotency_key}] {self.outcome}"


class FeatureUsage(models.Model):
    """One use of a feature and what it cost; written in the capture's transaction."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feature_usage"
    )
    feature = models.CharField(max_length=32, choices=Feature.choices)
    quantity = models.BigIntegerField()
    unit = models.CharField(max_length=16, choices=UsageUnit.choices)
    cost = models.BigIntegerField(help_text="Credits charged.")
    job_ref = models.CharField(max_length=200)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="usage"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "feature usage"
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(cost__gte=0), name="billing_usage_not_negative"
            ),
            models.UniqueConstraint(
                fields=["job_ref", "feature"], name="billing_usage_once_per_job_feature"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature} {self.quantity} {self.unit} for {self.cost} credits"


class PriceOverride(models.Model):
    """A staff-set price replacing the settings' list price of a feature."""

    feature = models.CharField(
        max_length=32,
        unique=True,
        choices=[
            (Feature.ANALYSIS.value, Feature.ANALYSIS.label),
            (Feature.STEM_SEPARATION.value, Feature.STEM_SEPARATION.label),
        ],
    )
    credits_per_minute = models.PositiveIntegerField(
        help_text="Credits per started minute of audio."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("feature",)

    def __str__(self) -> str:
        return f"{self.feature}: {self.credits_per_minute} per started minute"
