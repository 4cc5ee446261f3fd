"""Reserve and capture on PostgreSQL in two statements each: the lock, then one that decides
and writes.

Every job reserves and captures, so these two movements set the ledger's throughput, and on
PostgreSQL their common case is written here in SQL instead of through the ORM: the account
lock, then one statement (a data-modifying WITH) that reads what the decision needs and, when
it is the common case, appends the transfers, draw-downs, request record, usage and system
postings and moves the grants and the account. It writes exactly the rows the general path
in `billing.reservations` writes, under the same lock; whatever is not the common case (an
account to open, a replayed or conflicting key, a refusal, a grant to expire, a reservation
already settled) makes these functions return None with nothing written and the lock still
held, and the caller takes the general path in the same transaction.

Each function assumes an enclosing `ledger_transaction()`. The lock comes first, in a
statement of its own: in READ COMMITTED a statement that waited for a lock still reads the
other tables as they were before the holder committed, so the statement that decides is the
next one, which sees everything the holder wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from billing.models import AccountKind, Transfer, TransferKind

RESERVE_LOCK = """
SELECT account.id, account.credits_posted - account.debits_posted - account.debits_pending,
       (SELECT system.id FROM billing_creditaccount system
        WHERE system.kind = %(revenue_kind)s AND system.user_id IS NULL)
FROM billing_creditaccount account
WHERE account.user_id = %(user_id)s
FOR UPDATE OF account
"""

# Everything the decision needs is read in the statement that writes, which therefore writes
# only when `decided` has its row: the account's grants hold the credits and none of those
# holding any is past its expiry (`billing.grants.spend` would expire it first), and neither
# the key nor the job was used before. The credits are taken from the grants in consumption
# order (as `billing.grants.draw_down` takes them): `before` is what the grants ahead hold.
RESERVE_WRITE = """
WITH lots AS (
    SELECT lot.id, lot.remaining, COALESCE(lot.expires_at <= %(now)s, FALSE) AS due,
           SUM(lot.remaining) OVER (
               ORDER BY lot.priority DESC, lot.expires_at ASC NULLS LAST, lot.created_at, lot.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) - lot.remaining AS before
    FROM billing_creditgrant lot
    WHERE lot.account_id = %(account_id)s AND lot.remaining > 0
), decided AS (
    SELECT 1 AS applied
    WHERE NOT EXISTS (SELECT 1 FROM lots WHERE lots.due)
      AND (SELECT COALESCE(SUM(lots.remaining), 0) FROM lots) >= %(amount)s
      AND NOT EXISTS (SELECT 1 FROM billing_ledgerrequest request
                      WHERE request.account_id = %(account_id)s
                        AND request.idempotency_key = %(key)s)
      AND NOT EXISTS (SELECT 1 FROM billing_transfer held
                      WHERE held.job_ref = %(job_ref)s AND held.feature = %(feature)s
                        AND held.kind = %(reserve_kind)s)
), taken AS (
    SELECT lots.id AS grant_id, LEAST(lots.remaining, %(amount)s - lots.before)::bigint AS amount
    FROM lots, decided
    WHERE lots.before < %(amount)s
), reservation AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  expires_at, feature, job_ref, memo, idempotency_key,
                                  created_at)
    SELECT %(account_id)s, %(revenue_id)s, %(amount)s, %(reserve_kind)s, %(expires_at)s,
           %(feature)s, %(job_ref)s, '', %(transfer_key)s, %(now)s
    FROM decided
    RETURNING id
), drawn AS (
    INSERT INTO billing_grantdrawdown (grant_id, transfer_id, amount, created_at)
    SELECT taken.grant_id, reservation.id, taken.amount, %(now)s FROM reservation, taken
), moved AS (
    UPDATE billing_creditgrant lot SET remaining = lot.remaining - taken.amount
    FROM taken WHERE lot.id = taken.grant_id
), request AS (
    INSERT INTO billing_ledgerrequest (account_id, idempotency_key, operation, fingerprint,
                                       outcome, transfer_id, error_code, error_detail,
                                       error_extra, created_at)
    SELECT %(account_id)s, %(key)s, 'reserve', %(fingerprint)s, 'applied', reservation.id,
           '', '', '{}', %(now)s
    FROM reservation
), account AS (
    UPDATE billing_creditaccount SET debits_pending = debits_pending + %(amount)s
    FROM decided WHERE id = %(account_id)s
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    SELECT %(revenue_id)s, 0, 0, %(amount)s, 0 FROM decided
)
SELECT id FROM reservation
"""

CAPTURE_LOCK = """
SELECT reservation.id, reservation.amount, account.id, account.user_id,
       account.credits_posted - account.debits_posted - account.debits_pending,
       (SELECT system.id FROM billing_creditaccount system
        WHERE system.kind = %(revenue_kind)s AND system.user_id IS NULL)
FROM billing_transfer reservation
JOIN billing_creditaccount account ON account.id = reservation.debit_account_id
WHERE reservation.job_ref = %(job_ref)s AND reservation.feature = %(feature)s
  AND reservation.kind = %(reserve_kind)s
FOR UPDATE OF account
"""

# Written only when `decided` has its row: the reservation is neither settled nor its usage
# recorded, its draw-downs cover what goes back, and no credits go back to a grant past its
# expiry nor while another of the account's grants is (`billing.reservations` would expire
# them at once). What goes back returns to the grants last drawn first (as
# `billing.grants.give_back` returns it): `before` is what the later draw-downs took.
CAPTURE_WRITE = """
WITH drawn AS (
    SELECT taken.grant_id, taken.amount, COALESCE(lot.expires_at <= %(now)s, FALSE) AS due,
           SUM(taken.amount) OVER (
               ORDER BY taken.id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) - taken.amount AS before
    FROM billing_grantdrawdown taken
    JOIN billing_creditgrant lot ON lot.id = taken.grant_id
    WHERE taken.transfer_id = %(reservation_id)s AND taken.amount > 0
), given AS (
    SELECT drawn.grant_id, LEAST(drawn.amount, %(released)s - drawn.before)::bigint AS amount,
           drawn.due
    FROM drawn
    WHERE drawn.before < %(released)s
), decided AS (
    SELECT 1 AS applied
    WHERE NOT EXISTS (SELECT 1 FROM billing_transfer settled
                      WHERE settled.pending_id = %(reservation_id)s)
      AND NOT EXISTS (SELECT 1 FROM billing_featureusage used
                      WHERE used.job_ref = %(job_ref)s AND used.feature = %(feature)s)
      AND (SELECT COALESCE(SUM(drawn.amount), 0) FROM drawn) >= %(released)s
      AND NOT EXISTS (SELECT 1 FROM given WHERE given.due)
      AND (%(released)s = 0
           OR NOT EXISTS (SELECT 1 FROM billing_creditgrant due
                          WHERE due.account_id = %(account_id)s AND due.remaining > 0
                            AND due.expires_at <= %(now)s))
), settling AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  pending_id, feature, job_ref, memo, idempotency_key,
                                  created_at)
    SELECT %(account_id)s, %(revenue_id)s, settles.amount, settles.kind, %(reservation_id)s,
           %(feature)s, %(job_ref)s, settles.memo, settles.idempotency_key, %(now)s
    FROM decided, (VALUES {settling}) AS settles (amount, kind, memo, idempotency_key)
    RETURNING id, kind
), returned AS (
    INSERT INTO billing_grantdrawdown (grant_id, transfer_id, amount, created_at)
    SELECT given.grant_id, settling.id, -given.amount, %(now)s
    FROM settling, given WHERE settling.kind = %(release_kind)s
), moved AS (
    UPDATE billing_creditgrant lot SET remaining = lot.remaining + given.amount
    FROM given, decided WHERE lot.id = given.grant_id
), usage AS (
    INSERT INTO billing_featureusage (user_id, feature, quantity, unit, cost, job_ref,
                                      transfer_id, created_at)
    SELECT %(user_id)s, %(feature)s, %(quantity)s, %(unit)s, %(captured)s, %(job_ref)s,
           (SELECT id FROM settling WHERE kind = %(capture_kind)s), %(now)s
    FROM decided
), account AS (
    UPDATE billing_creditaccount
    SET debits_pending = debits_pending - %(reserved)s,
        debits_posted = debits_posted + %(captured)s
    FROM decided WHERE id = %(account_id)s
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    SELECT %(revenue_id)s, 0, 0, -%(reserved)s, %(captured)s FROM decided
)
SELECT id, kind FROM settling
"""


def applies() -> bool:
    return connection.vendor == "postgresql"


def _run(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class Reserved:
    """A reservation written by `reserve`, and the account's available credits after it."""

    transfer: Transfer
    available: int


def reserve(
    *,
    user_id: int,
    amount: int,
    feature: str,
    job_ref: str,
    key: str,
    now: datetime,
    expires_at: datetime,
) -> Reserved | None:
    """Reserve `amount` credits as `billing.reservations.credits_reserve` would.

    Returns None, having written nothing, unless the account is open and holds the credits in
    grants none of which is due to expire, and neither the key nor the job was used before.
    """
    params: dict[str, Any] = {
        "user_id": user_id,
        "revenue_kind": AccountKind.REVENUE.value,
        "reserve_kind": TransferKind.RESERVE.value,
        "amount": amount,
        "feature": feature,
        "job_ref": job_ref,
        "key": key,
        "now": now,
        "expires_at": expires_at,
    }
    locked = _run(RESERVE_LOCK, params)
    if not locked:
        return None
    ((account_id, available, revenue_id),) = locked
    if revenue_id is None or available < amount:
        return None
    transfer_key = f"{account_id}:{key}"
    params.update(
        account_id=account_id,
        revenue_id=revenue_id,
        transfer_key=transfer_key,
        fingerprint=f"amount={amount};feature={feature};job_ref={job_ref}",
    )
    written = _run(RESERVE_WRITE, params)
    if not written:
        return None
    ((transfer_id,),) = written
    transfer = Transfer(
        pk=transfer_id,
        debit_account_id=account_id,
        credit_account_id=revenue_id,
        amount=amount,
        kind=TransferKind.RESERVE,
        expires_at=expires_at,
        feature=feature,
        job_ref=job_ref,
        idempotency_key=transfer_key,
        created_at=now,
    )
    transfer._state.adding = False
    transfer._state.db = connection.alias
    return Reserved(transfer=transfer, available=available - amount)


@dataclass(frozen=True)
class Captured:
    """What `capture` wrote: credits captured and released, and the user's balance after."""

    user_id: int
    captured: int
    released: int
    available: int


def capture(
    *,
    job_ref: str,
    feature: str,
    amount: int | None,
    usage_quantity: int,
    usage_unit: str,
    now: datetime,
) -> Captured | None:
    """Capture a reservation as `billing.reservations.credits_capture` would.

    Returns None, having written nothing, unless the reservation exists and is unsettled, no
    usage is recorded for the job, `amount` is within the reservation and no credits go back
    to a grant that must expire. Raises nothing of its own.
    """
    params: dict[str, Any] = {
        "job_ref": job_ref,
        "feature": feature,
        "revenue_kind": AccountKind.REVENUE.value,
        "reserve_kind": TransferKind.RESERVE.value,
        "capture_kind": TransferKind.CAPTURE.value,
        "release_kind": TransferKind.RELEASE.value,
        "now": now,
    }
    locked = _run(CAPTURE_LOCK, params)
    if not locked:
        return None
    ((reservation_id, reserved, account_id, user_id, available, revenue_id),) = locked
    if revenue_id is None or user_id is None:
        return None
    if amount is not None and not 0 <= amount <= reserved:
        return None
    captured = reserved if amount is None else amount
    rest = reserved - captured
    params.update(
        reservation_id=reservation_id,
        account_id=account_id,
        user_id=user_id,
        revenue_id=revenue_id,
        reserved=reserved,
        captured=captured,
        released=rest,
        quantity=usage_quantity,
        unit=usage_unit,
    )
    settling = []
    for kind, credits, memo in (
        (TransferKind.CAPTURE.value, captured, ""),
        (TransferKind.RELEASE.value, rest, "Not used by the job."),
    ):
        if credits > 0:
            params[f"{kind}_amount"] = credits
            params[f"{kind}_memo"] = memo
            params[f"{kind}_key"] = f"{kind}:{feature}:{job_ref}"
            settling.append(
                f"(%({kind}_amount)s::bigint, %({kind}_kind)s, %({kind}_memo)s, %({kind}_key)s)"
            )
    if not _run(CAPTURE_WRITE.format(settling=", ".join(settling)), params):
        return None
    return Captured(user_id=user_id, captured=captured, released=rest, available=available + rest)
