"""Refusals of the credits ledger, each with a stable `code` the API reports."""

from __future__ import annotations

from core.api.exceptions import DomainError


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


def insufficient(*, required: int, available: int) -> InsufficientCredits:
    return InsufficientCredits(
        f"This needs {required} credits; {available} are available.",
        extra={"required": required, "available": available},
    )
