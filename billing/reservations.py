"""Two-phase spending: reserve credits for a job, then capture or release them.

Billing does not know what a job is: callers pass a `job_ref` string (e.g. "analysis:<uuid>")
and a `feature`. A reservation is unique per (job_ref, feature), and so are its capture and
release, so one job can never be charged twice. The locking contract is in `billing.postings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from billing import hot_paths
from billing.errors import JobAlreadyReserved, ReservationNotFound, ReservationReleased
from billing.grants import (
    apply_once,
    expire_due_grants,
    give_back,
    lock_user_account,
    spend,
)
from billing.models import (
    AccountKind,
    CreditAccount,
    Feature,
    FeatureUsage,
    Transfer,
    TransferKind,
    UsageUnit,
)
from billing.postings import (
    after_commit,
    ledger_transaction,
    lock_account,
    record_all,
    remember_system_ids,
    system_account,
    system_id_annotations,
)


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


# Read once: `Feature.values` builds its list anew on every access, and every movement checks.
FEATURES = frozenset(Feature.values)
USAGE_UNITS = frozenset(UsageUnit.values)


def validate_feature(feature: str) -> None:
    if feature not in FEATURES:
        raise ValueError(f"Unknown feature {feature!r}.")


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
    validate_feature(feature)
    if not job_ref:
        raise ValueError("A reservation needs a job reference.")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(minutes=settings.PHONOGLYPH_CREDIT_RESERVATION_TTL_MINUTES)
    elif expires_at <= now:
        raise ValueError("A reservation cannot expire in the past.")
    key = idempotency_key or f"reserve:{feature}:{job_ref}"
    hold_until = expires_at

    if hot_paths.applies():
        reserved = hot_paths.reserve(
            user_id=user.pk,
            amount=amount,
            feature=feature,
            job_ref=job_ref,
            key=key,
            now=now,
            expires_at=hold_until,
        )
        if reserved is not None:
            after_commit(
                movement="reserved",
                event="credits_reserved",
                user_id=user.pk,
                amount=amount,
                feature=feature,
                available=reserved.available,
            )
            return reserved.transfer
    with ledger_transaction():
        # The lock serializes every movement of this account: without it, two reservations
        # could both read the same available balance and together overspend it.
        account = lock_user_account(user)

        def hold() -> Transfer:
            transfer = spend(
                account=account,
                kind=TransferKind.RESERVE,
                amount=amount,
                credit=system_account(AccountKind.REVENUE),
                idempotency_key=f"{account.pk}:{key}",
                now=now,
                expires_at=hold_until,
                feature=feature,
                job_ref=job_ref,
            )
            after_commit(
                movement="reserved",
                event="credits_reserved",
                user_id=user.pk,
                amount=amount,
                feature=feature,
            )
            return transfer

        outcome = apply_once(
            account=account,
            key=key,
            operation="reserve",
            fingerprint=f"amount={amount};feature={feature};job_ref={job_ref}",
            apply=hold,
            conflict=(
                Exists(
                    Transfer.objects.filter(
                        job_ref=job_ref, feature=feature, kind=TransferKind.RESERVE
                    )
                ),
                lambda: JobAlreadyReserved(f"{job_ref} already holds a {feature} reservation."),
            ),
        )
    return outcome.result()


def _reservation(*, job_ref: str, feature: str) -> Transfer | None:
    return (
        Transfer.objects.select_related("debit_account")
        .filter(job_ref=job_ref, feature=feature, kind=TransferKind.RESERVE)
        .first()
    )


def _lock_reservation(*, job_ref: str, feature: str) -> Transfer | None:
    """The reservation of (`job_ref`, `feature`) with its account locked, in one statement.

    Assumes an enclosing `ledger_transaction()`. On PostgreSQL the join waits for the lock
    and returns the account row as the lock holder committed it.
    """
    reservation = (
        Transfer.objects.select_related("debit_account")
        .select_for_update(of=("debit_account",))
        .filter(job_ref=job_ref, feature=feature, kind=TransferKind.RESERVE)
        .annotate(**system_id_annotations())
        .first()
    )
    if reservation is not None:
        remember_system_ids(reservation)
    return reservation


def _lock_reservation_account(reservation: Transfer) -> CreditAccount:
    account = lock_account(reservation.debit_account_id)
    reservation.debit_account = account
    return account


def _settlement(reservation: Transfer) -> tuple[Settlement | None, bool]:
    """The reservation's settlement if it has one, and whether its usage was recorded.

    Assumes its account's lock is held: read in one statement after the lock, so it sees
    every settlement committed before.
    """
    settling = Transfer.objects.filter(pending=OuterRef("pk"))
    used = FeatureUsage.objects.filter(job_ref=OuterRef("job_ref"), feature=OuterRef("feature"))
    row = (
        Transfer.objects.filter(pk=reservation.pk)
        .annotate(
            captured=Subquery(settling.filter(kind=TransferKind.CAPTURE).values("amount")[:1]),
            released=Subquery(settling.filter(kind=TransferKind.RELEASE).values("amount")[:1]),
            used=Exists(used),
        )
        .values("captured", "released", "used")
        .get()
    )
    if row["captured"] is None and row["released"] is None and not row["used"]:
        return None, False
    settlement = Settlement(
        job_ref=reservation.job_ref,
        feature=reservation.feature,
        captured=row["captured"] or 0,
        released=row["released"] or 0,
        replayed=True,
    )
    return settlement, bool(row["used"])


def _settled(reservation: Transfer) -> Settlement | None:
    """The reservation's settlement if it has one; assumes its account's lock is held."""
    return _settlement(reservation)[0]


def _release_transfer(
    *, reservation: Transfer, amount: int, memo: str, revenue: CreditAccount | None = None
) -> Transfer:
    """The unsaved release of `amount` of a reservation."""
    return Transfer(
        kind=TransferKind.RELEASE,
        debit_account=reservation.debit_account,
        credit_account=revenue or system_account(AccountKind.REVENUE),
        amount=amount,
        idempotency_key=f"release:{reservation.feature}:{reservation.job_ref}",
        pending=reservation,
        feature=reservation.feature,
        job_ref=reservation.job_ref,
        memo=memo,
    )


def _give_back(*, reservation: Transfer, release: Transfer) -> None:
    """Return a recorded release's credits to their grants; assumes the lock."""
    account = reservation.debit_account
    give_back(reservation=reservation, transfer=release, amount=release.amount)
    # Credits handed back to a grant that expired while they were held expire right away.
    expire_due_grants(account=account, now=timezone.now())
    after_commit(
        movement="released",
        event="credits_released",
        user_id=account.user_id,
        amount=release.amount,
        feature=reservation.feature,
    )


def _release(*, reservation: Transfer, amount: int, memo: str) -> Transfer:
    """Void `amount` of a reservation and return it to its grants; assumes the lock."""
    transfer = record_all([_release_transfer(reservation=reservation, amount=amount, memo=memo)])[0]
    _give_back(reservation=reservation, release=transfer)
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
    if usage_unit not in USAGE_UNITS:
        raise ValueError(f"Unknown usage unit {usage_unit!r}.")
    if hot_paths.applies():
        captured_now = hot_paths.capture(
            job_ref=job_ref,
            feature=feature,
            amount=amount,
            usage_quantity=usage_quantity,
            usage_unit=usage_unit,
            now=timezone.now(),
        )
        if captured_now is not None:
            _report_settlement(captured_now, feature=feature)
            return Settlement(
                job_ref=job_ref,
                feature=feature,
                captured=captured_now.captured,
                released=captured_now.released,
                replayed=False,
            )
    with ledger_transaction():
        # Under the lock, exactly one of a capture and a release (or the expiry sweep) sees
        # the reservation unsettled; the other sees its settlement and does nothing.
        reservation = _lock_reservation(job_ref=job_ref, feature=feature)
        if reservation is None:
            raise ReservationNotFound(f"{job_ref} holds no {feature} reservation.")
        if amount is not None and not 0 <= amount <= reservation.amount:
            raise ValueError(f"Capture must be between 0 and the reserved {reservation.amount}.")
        captured = reservation.amount if amount is None else amount
        account = reservation.debit_account
        settled, was_capture = _settlement(reservation)
        if settled is not None:
            released_all = settled.captured == 0 and settled.released == reservation.amount
            if released_all and not was_capture:
                raise ReservationReleased(
                    f"The {feature} reservation of {job_ref} was already released."
                )
            return settled
        revenue = system_account(AccountKind.REVENUE)
        rest = reservation.amount - captured
        # The capture and the release of the rest are appended in one statement.
        settling: list[Transfer] = []
        if captured > 0:
            settling.append(
                Transfer(
                    kind=TransferKind.CAPTURE,
                    debit_account=account,
                    credit_account=revenue,
                    amount=captured,
                    idempotency_key=f"capture:{feature}:{job_ref}",
                    pending=reservation,
                    feature=feature,
                    job_ref=job_ref,
                )
            )
        if rest > 0:
            settling.append(
                _release_transfer(
                    reservation=reservation,
                    amount=rest,
                    memo="Not used by the job.",
                    revenue=revenue,
                )
            )
        recorded = {transfer.kind: transfer for transfer in record_all(settling)}
        capture = recorded.get(TransferKind.CAPTURE)
        if capture is not None:
            after_commit(
                movement="captured",
                event="credits_captured",
                user_id=account.user_id,
                amount=captured,
                feature=feature,
            )
        if TransferKind.RELEASE in recorded:
            _give_back(reservation=reservation, release=recorded[TransferKind.RELEASE])
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


def _report_settlement(settled: hot_paths.Captured, *, feature: str) -> None:
    if settled.captured > 0:
        after_commit(
            movement="captured",
            event="credits_captured",
            user_id=settled.user_id,
            amount=settled.captured,
            feature=feature,
            available=settled.available,
            # Both reports carry the balance the settlement left: one check of it is enough.
            check_low=settled.released == 0,
        )
    if settled.released > 0:
        after_commit(
            movement="released",
            event="credits_released",
            user_id=settled.user_id,
            amount=settled.released,
            feature=feature,
            available=settled.available,
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
    with ledger_transaction():
        _lock_reservation_account(reservation)
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
    with ledger_transaction():
        _lock_reservation_account(reservation)
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
