"""Reserve and capture on PostgreSQL in three statements each: lock, read, write.

Every job reserves and captures, so these two movements set the ledger's throughput, and on
PostgreSQL their common case is written here in SQL instead of through the ORM: the account
lock, one read of everything the decision needs, and one statement (a data-modifying WITH)
appending the transfers, draw-downs, request record, usage and system postings and moving the
grants and the account. It writes exactly the rows the general path in
`billing.reservations` writes, under the same lock; whatever is not the common case (an
account to open, a replayed or conflicting key, a refusal, a grant to expire, a reservation
already settled) makes these functions return None with nothing written and the lock still
held, and the caller takes the general path in the same transaction.

Each function assumes an enclosing `ledger_transaction()`. The lock comes first, in a
statement of its own: in READ COMMITTED a statement that waited for a lock still reads the
other tables as they were before the holder committed, so the read that decides is the next
statement, which sees everything the holder wrote.
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

# The account's grants holding credits in consumption order (as `billing.grants` spends
# them), with whether each is past its expiry, and on every row the key's earlier request
# and whether the job already holds a reservation.
RESERVE_READ = """
SELECT lot.id, lot.remaining, COALESCE(lot.expires_at <= %(now)s, FALSE),
       EXISTS (SELECT 1 FROM billing_ledgerrequest request
               WHERE request.account_id = %(account_id)s
                 AND request.idempotency_key = %(key)s),
       EXISTS (SELECT 1 FROM billing_transfer reservation
               WHERE reservation.job_ref = %(job_ref)s AND reservation.feature = %(feature)s
                 AND reservation.kind = %(reserve_kind)s)
FROM billing_creditgrant lot
WHERE lot.account_id = %(account_id)s AND lot.remaining > 0
ORDER BY lot.priority DESC, lot.expires_at ASC NULLS LAST, lot.created_at, lot.id
"""

RESERVE_WRITE = """
WITH reservation AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  expires_at, feature, job_ref, memo, idempotency_key,
                                  created_at)
    VALUES (%(account_id)s, %(revenue_id)s, %(amount)s, %(reserve_kind)s, %(expires_at)s,
            %(feature)s, %(job_ref)s, '', %(transfer_key)s, %(now)s)
    RETURNING id
), taken (grant_id, amount) AS (VALUES {taken}),
drawn AS (
    INSERT INTO billing_grantdrawdown (grant_id, transfer_id, amount, created_at)
    SELECT taken.grant_id, reservation.id, taken.amount, %(now)s FROM reservation, taken
), lots AS (
    UPDATE billing_creditgrant lot SET remaining = lot.remaining - taken.amount
    FROM taken WHERE lot.id = taken.grant_id
), request AS (
    INSERT INTO billing_ledgerrequest (account_id, idempotency_key, operation, fingerprint,
                                       outcome, transfer_id, error_code, error_detail,
                                       error_extra, created_at)
    SELECT %(account_id)s, %(key)s, 'reserve', %(fingerprint)s, 'applied', reservation.id,
           '', '', '{{}}', %(now)s
    FROM reservation
), account AS (
    UPDATE billing_creditaccount SET debits_pending = debits_pending + %(amount)s
    WHERE id = %(account_id)s
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    VALUES (%(revenue_id)s, 0, 0, %(amount)s, 0)
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

# The reservation's draw-downs, last first (the order credits go back to their grants), with
# whether each grant is past its expiry, and on every row whether the reservation is settled
# or its usage recorded, and whether any of the account's grants is due to expire.
CAPTURE_READ = """
SELECT drawn.grant_id, drawn.amount, COALESCE(lot.expires_at <= %(now)s, FALSE),
       EXISTS (SELECT 1 FROM billing_transfer settling
               WHERE settling.pending_id = %(reservation_id)s),
       EXISTS (SELECT 1 FROM billing_featureusage usage
               WHERE usage.job_ref = %(job_ref)s AND usage.feature = %(feature)s),
       EXISTS (SELECT 1 FROM billing_creditgrant due
               WHERE due.account_id = %(account_id)s AND due.remaining > 0
                 AND due.expires_at <= %(now)s)
FROM billing_grantdrawdown drawn
JOIN billing_creditgrant lot ON lot.id = drawn.grant_id
WHERE drawn.transfer_id = %(reservation_id)s AND drawn.amount > 0
ORDER BY drawn.id DESC
"""

CAPTURE_WRITE = """
WITH settling AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  pending_id, feature, job_ref, memo, idempotency_key,
                                  created_at)
    VALUES {settling}
    RETURNING id, kind
), given (grant_id, amount) AS (VALUES {given}),
returned AS (
    INSERT INTO billing_grantdrawdown (grant_id, transfer_id, amount, created_at)
    SELECT given.grant_id, settling.id, -given.amount, %(now)s
    FROM settling, given WHERE settling.kind = %(release_kind)s
), lots AS (
    UPDATE billing_creditgrant lot SET remaining = lot.remaining + given.amount
    FROM given WHERE lot.id = given.grant_id
), usage AS (
    INSERT INTO billing_featureusage (user_id, feature, quantity, unit, cost, job_ref,
                                      transfer_id, created_at)
    SELECT %(user_id)s, %(feature)s, %(quantity)s, %(unit)s, %(captured)s, %(job_ref)s,
           (SELECT id FROM settling WHERE kind = %(capture_kind)s), %(now)s
), account AS (
    UPDATE billing_creditaccount
    SET debits_pending = debits_pending - %(reserved)s,
        debits_posted = debits_posted + %(captured)s
    WHERE id = %(account_id)s
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    VALUES (%(revenue_id)s, 0, 0, -%(reserved)s, %(captured)s)
)
SELECT id, kind FROM settling
"""


def applies() -> bool:
    return connection.vendor == "postgresql"


def _run(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _pairs(name: str, pairs: list[tuple[int, int]], params: dict[str, Any]) -> str:
    """VALUES rows for `pairs` of (grant id, credits), their parameters added to `params`."""
    rows = []
    for index, (grant_id, amount) in enumerate(pairs):
        params[f"{name}_grant_{index}"] = grant_id
        params[f"{name}_amount_{index}"] = amount
        rows.append(f"(%({name}_grant_{index})s::bigint, %({name}_amount_{index})s::bigint)")
    return ", ".join(rows)


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
    params.update(account_id=account_id, revenue_id=revenue_id)
    lots = _run(RESERVE_READ, params)
    if not lots or any(due or known_key or reserved for _, _, due, known_key, reserved in lots):
        return None
    left = amount
    taken: list[tuple[int, int]] = []
    for grant_id, remaining, *_ in lots:
        take = min(remaining, left)
        taken.append((grant_id, take))
        left -= take
        if left == 0:
            break
    if left:
        # Grants and balance disagree: the general path reports it.
        return None
    transfer_key = f"{account_id}:{key}"
    params.update(
        transfer_key=transfer_key,
        fingerprint=f"amount={amount};feature={feature};job_ref={job_ref}",
    )
    ((transfer_id,),) = _run(RESERVE_WRITE.format(taken=_pairs("taken", taken, params)), params)
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
    params.update(reservation_id=reservation_id, account_id=account_id)
    drawn = _run(CAPTURE_READ, params)
    if not drawn or any(settled or used for _, _, _, settled, used, _ in drawn):
        return None
    left = rest
    given: list[tuple[int, int]] = []
    for grant_id, drawn_amount, grant_due, _, _, any_due in drawn:
        if left == 0:
            break
        if grant_due or any_due:
            # Credits handed back to an expired grant expire at once: the general path.
            return None
        give = min(drawn_amount, left)
        given.append((grant_id, give))
        left -= give
    if left:
        return None
    params.update(
        user_id=user_id,
        revenue_id=revenue_id,
        reserved=reserved,
        captured=captured,
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
                f"(%(account_id)s, %(revenue_id)s, %({kind}_amount)s, %({kind}_kind)s, "
                f"%(reservation_id)s, %(feature)s, %(job_ref)s, %({kind}_memo)s, "
                f"%({kind}_key)s, %(now)s)"
            )
    # A VALUES list needs a row: with nothing released, one that joins no settling row.
    given_rows = _pairs("given", given, params) if given else "(NULL::bigint, NULL::bigint)"
    _run(CAPTURE_WRITE.format(settling=", ".join(settling), given=given_rows), params)
    return Captured(user_id=user_id, captured=captured, released=rest, available=available + rest)
