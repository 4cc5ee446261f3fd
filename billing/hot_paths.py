"""Reserve and capture on PostgreSQL in one round trip each: the lock, then one statement
that decides and writes.

Every job reserves and captures, so these two movements set the ledger's throughput, and on
PostgreSQL their common case is written here in SQL instead of through the ORM: the account
lock, then one statement (a data-modifying WITH) that reads what the decision needs and, when
it is the common case, appends the transfers, draw-downs, request record, usage and system
postings and moves the grants and the account. It writes exactly the rows the general path
in `billing.reservations` writes, under the same lock; whatever is not the common case (an
account to open, a replayed or conflicting key, a refusal, a grant to expire, a reservation
already settled or an amount outside it) makes these functions return None with nothing
written, and the caller takes the general path.

The lock comes first, in a statement of its own: in READ COMMITTED a statement that waited
for a lock still reads the other tables as they were before the holder committed, so the
statement that decides is the next one, which sees everything the holder wrote. Nothing the
client decides stands between the two, so both go in one pipeline: the server still runs
them one after the other, the second in a snapshot taken once the first holds the lock.

Outside any transaction the pipeline is its own transaction: the server commits it at the
pipeline's end (the protocol's Sync), so one round trip does the lock, the change and the
COMMIT; a movement that wrote nothing has then released the lock and the general path takes
it again in a transaction of its own. Inside the caller's transaction the pipeline runs in a
savepoint, so that a failure in it leaves that transaction usable, and the lock stays held
until the caller's transaction ends.

The statements bind their parameters on the server, so psycopg prepares them once per
connection (`prepare_threshold` in the settings) instead of PostgreSQL parsing and planning
them on every call. Constants that select a partial index (the account kind, the transfer
kind, a non-empty job reference) are written into the SQL rather than bound, so that the
prepared statement's generic plan can use those indexes and replaces per-call planning; the
kinds are the values of `AccountKind` and `TransferKind`.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg.pq import TransactionStatus

from billing.models import Transfer, TransferKind


def _one_line(sql: str) -> str:
    """`sql` with its layout collapsed to single spaces (no literal in it holds two).

    psycopg caches the conversion of a statement's placeholders only up to 4096 characters.
    """
    return " ".join(sql.split())


RESERVE_LOCK = _one_line("""
SELECT 1 FROM billing_creditaccount account WHERE account.user_id = %(user_id)s FOR UPDATE
""")

# Everything the decision needs is read in the statement that writes, which therefore writes
# only when `decided` has its row: the account is open with the credits available, its
# grants hold them and none of those holding any is past its expiry (`billing.grants.spend`
# would expire it first), and neither the key nor the job was used before. The credits are
# taken from the grants in consumption order (as `billing.grants.draw_down` takes them):
# `before` is what the grants ahead hold.
RESERVE_WRITE = _one_line("""
WITH holder AS (
    SELECT account.id,
           account.credits_posted - account.debits_posted - account.debits_pending
               AS available,
           (SELECT system.id FROM billing_creditaccount system
            WHERE system.kind = 'revenue' AND system.user_id IS NULL) AS revenue_id
    FROM billing_creditaccount account
    WHERE account.user_id = %(user_id)s
), lots AS (
    SELECT lot.id, lot.remaining, COALESCE(lot.expires_at <= %(now)s, FALSE) AS due,
           SUM(lot.remaining) OVER (
               ORDER BY lot.priority DESC, lot.expires_at ASC NULLS LAST, lot.created_at, lot.id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) - lot.remaining AS before
    FROM holder
    JOIN billing_creditgrant lot ON lot.account_id = holder.id
    WHERE lot.remaining > 0
), decided AS (
    SELECT holder.id AS account_id, holder.revenue_id, holder.available
    FROM holder
    WHERE holder.revenue_id IS NOT NULL
      AND holder.available >= %(amount)s
      AND NOT EXISTS (SELECT 1 FROM lots WHERE lots.due)
      AND (SELECT COALESCE(SUM(lots.remaining), 0) FROM lots) >= %(amount)s
      AND NOT EXISTS (SELECT 1 FROM billing_ledgerrequest request
                      WHERE request.account_id = holder.id
                        AND request.idempotency_key = %(key)s)
      AND NOT EXISTS (SELECT 1 FROM billing_transfer held
                      WHERE held.job_ref = %(job_ref)s AND held.job_ref <> ''
                        AND held.feature = %(feature)s AND held.kind = 'reserve')
), taken AS (
    SELECT lots.id AS grant_id, LEAST(lots.remaining, %(amount)s - lots.before)::bigint AS amount
    FROM lots, decided
    WHERE lots.before < %(amount)s
), reservation AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  expires_at, feature, job_ref, memo, idempotency_key,
                                  created_at)
    SELECT decided.account_id, decided.revenue_id, %(amount)s, 'reserve', %(expires_at)s,
           %(feature)s, %(job_ref)s, '', decided.account_id || ':' || %(key)s, %(now)s
    FROM decided
    RETURNING id, debit_account_id
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
    SELECT reservation.debit_account_id, %(key)s, 'reserve', %(fingerprint)s, 'applied',
           reservation.id, '', '', '{}', %(now)s
    FROM reservation
), account AS (
    UPDATE billing_creditaccount account
    SET debits_pending = account.debits_pending + %(amount)s
    FROM decided WHERE account.id = decided.account_id
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    SELECT decided.revenue_id, 0, 0, %(amount)s, 0 FROM decided
)
SELECT reservation.id, decided.account_id, decided.revenue_id, decided.available
FROM reservation, decided
""")

CAPTURE_LOCK = _one_line("""
SELECT 1
FROM billing_transfer reservation
JOIN billing_creditaccount account ON account.id = reservation.debit_account_id
WHERE reservation.job_ref = %(job_ref)s AND reservation.job_ref <> ''
  AND reservation.feature = %(feature)s AND reservation.kind = 'reserve'
FOR UPDATE OF account
""")

# Written only when `decided` has its row: the amount is within the reservation, which is
# neither settled nor its usage recorded, its draw-downs cover what goes back, and no credits
# go back to a grant past its expiry nor while another of the account's grants is
# (`billing.reservations` would expire them at once). What goes back returns to the grants
# last drawn first (as `billing.grants.give_back` returns it): `before` is what the later
# draw-downs took. `captured` is the amount asked for, or the whole reservation (NULL).
CAPTURE_WRITE = _one_line("""
WITH held AS (
    SELECT reservation.id, reservation.amount AS reserved, account.id AS account_id,
           account.user_id,
           account.credits_posted - account.debits_posted - account.debits_pending
               AS available,
           asked.captured, reservation.amount - asked.captured AS released,
           (SELECT system.id FROM billing_creditaccount system
            WHERE system.kind = 'revenue' AND system.user_id IS NULL) AS revenue_id
    FROM billing_transfer reservation
    JOIN billing_creditaccount account ON account.id = reservation.debit_account_id
    CROSS JOIN LATERAL (
        SELECT COALESCE(%(amount)s::bigint, reservation.amount) AS captured
    ) AS asked
    WHERE reservation.job_ref = %(job_ref)s AND reservation.job_ref <> ''
      AND reservation.feature = %(feature)s AND reservation.kind = 'reserve'
), drawn AS (
    SELECT taken.grant_id, taken.amount, COALESCE(lot.expires_at <= %(now)s, FALSE) AS due,
           SUM(taken.amount) OVER (
               ORDER BY taken.id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) - taken.amount AS before
    FROM held
    JOIN billing_grantdrawdown taken ON taken.transfer_id = held.id
    JOIN billing_creditgrant lot ON lot.id = taken.grant_id
    WHERE taken.amount > 0
), given AS (
    SELECT drawn.grant_id, LEAST(drawn.amount, held.released - drawn.before)::bigint AS amount,
           drawn.due
    FROM drawn, held
    WHERE drawn.before < held.released
), decided AS (
    SELECT held.*
    FROM held
    WHERE held.user_id IS NOT NULL AND held.revenue_id IS NOT NULL
      AND held.captured BETWEEN 0 AND held.reserved
      AND NOT EXISTS (SELECT 1 FROM billing_transfer settled
                      WHERE settled.pending_id = held.id)
      AND NOT EXISTS (SELECT 1 FROM billing_featureusage used
                      WHERE used.job_ref = %(job_ref)s AND used.feature = %(feature)s)
      AND (SELECT COALESCE(SUM(drawn.amount), 0) FROM drawn) >= held.released
      AND NOT EXISTS (SELECT 1 FROM given WHERE given.due)
      AND (held.released = 0
           OR NOT EXISTS (SELECT 1 FROM billing_creditgrant due
                          WHERE due.account_id = held.account_id AND due.remaining > 0
                            AND due.expires_at <= %(now)s))
), settling AS (
    INSERT INTO billing_transfer (debit_account_id, credit_account_id, amount, kind,
                                  pending_id, feature, job_ref, memo, idempotency_key,
                                  created_at)
    SELECT decided.account_id, decided.revenue_id, settles.amount, settles.kind, decided.id,
           %(feature)s, %(job_ref)s, settles.memo,
           settles.kind || ':' || %(feature)s || ':' || %(job_ref)s, %(now)s
    FROM decided
    CROSS JOIN LATERAL (
        VALUES ('capture', decided.captured, ''),
               ('release', decided.released, 'Not used by the job.')
    ) AS settles (kind, amount, memo)
    WHERE settles.amount > 0
    RETURNING id, kind
), returned AS (
    INSERT INTO billing_grantdrawdown (grant_id, transfer_id, amount, created_at)
    SELECT given.grant_id, settling.id, -given.amount, %(now)s
    FROM settling, given WHERE settling.kind = 'release'
), moved AS (
    UPDATE billing_creditgrant lot SET remaining = lot.remaining + given.amount
    FROM given, decided WHERE lot.id = given.grant_id
), usage AS (
    INSERT INTO billing_featureusage (user_id, feature, quantity, unit, cost, job_ref,
                                      transfer_id, created_at)
    SELECT decided.user_id, %(feature)s, %(quantity)s, %(unit)s, decided.captured, %(job_ref)s,
           (SELECT id FROM settling WHERE kind = 'capture'), %(now)s
    FROM decided
), account AS (
    UPDATE billing_creditaccount account
    SET debits_pending = account.debits_pending - decided.reserved,
        debits_posted = account.debits_posted + decided.captured
    FROM decided WHERE account.id = decided.account_id
), posting AS (
    INSERT INTO billing_systemposting (account_id, debits_pending, debits_posted,
                                       credits_pending, credits_posted)
    SELECT decided.revenue_id, 0, 0, -decided.reserved, decided.captured FROM decided
)
SELECT decided.user_id, decided.captured, decided.released,
       decided.available + decided.released
FROM decided
""")


def applies() -> bool:
    return connection.vendor == "postgresql"


class _LoggedCursor(CursorDebugWrapper):
    """Logs a statement as Django logs one bound on the server: with its parameters inlined.

    psycopg keeps no text of a prepared statement's execution for Django to log.
    """

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


# Inside the caller's transaction the two statements run in this savepoint, sent in the same
# pipeline, so that a failure in them leaves that transaction usable, as it was.
SAVEPOINT = "billing_hot_path"


def _lock_then_write(lock: str, write: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Send `lock` and `write` in one round trip; return what `write` returned.

    Commits them when no transaction is open; inside one, runs them in a savepoint. The
    cursor binds on the server, so the connection prepares both statements; it is wrapped
    like Django's own, so execute wrappers, query logging and error translation still apply.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    raw = db.connection
    nested = db.in_atomic_block
    with db.wrap_database_errors:
        bound = psycopg.Cursor(raw)
    cursor = _LoggedCursor(bound, db) if db.queries_logged else CursorWrapper(bound, db)
    with cursor, db.wrap_database_errors:
        try:
            with raw.pipeline():
                if nested:
                    raw.execute(f"SAVEPOINT {SAVEPOINT}")
                cursor.execute(lock, params)
                cursor.execute(write, params)
                if nested:
                    raw.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        except psycopg.Error:
            if nested and raw.info.transaction_status == TransactionStatus.INERROR:
                # Should this fail too, the connection is lost and the first error says why.
                with suppress(psycopg.Error):
                    raw.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
            raise
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
    Commits the reservation when no transaction is open.
    """
    params: dict[str, Any] = {
        "user_id": user_id,
        "amount": amount,
        "feature": feature,
        "job_ref": job_ref,
        "key": key,
        "fingerprint": f"amount={amount};feature={feature};job_ref={job_ref}",
        "now": now,
        "expires_at": expires_at,
    }
    written = _lock_then_write(RESERVE_LOCK, RESERVE_WRITE, params)
    if not written:
        return None
    ((transfer_id, account_id, revenue_id, available),) = written
    transfer = Transfer(
        pk=transfer_id,
        debit_account_id=account_id,
        credit_account_id=revenue_id,
        amount=amount,
        kind=TransferKind.RESERVE,
        expires_at=expires_at,
        feature=feature,
        job_ref=job_ref,
        idempotency_key=f"{account_id}:{key}",
        created_at=now,
    )
    transfer._state.adding = False
    transfer._state.db = DEFAULT_DB_ALIAS
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
    to a grant that must expire. Commits the capture when no transaction is open. Raises
    nothing of its own.
    """
    params: dict[str, Any] = {
        "job_ref": job_ref,
        "feature": feature,
        "amount": amount,
        "quantity": usage_quantity,
        "unit": usage_unit,
        "now": now,
    }
    written = _lock_then_write(CAPTURE_LOCK, CAPTURE_WRITE, params)
    if not written:
        return None
    ((user_id, captured, released, available),) = written
    return Captured(user_id=user_id, captured=captured, released=released, available=available)
