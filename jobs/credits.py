"""The ledger operations the job lifecycle needs, as a protocol the billing domain implements.

`jobs` sits below the domains and cannot import billing; a kind that charges for its jobs
passes an implementation (billing.job_credits) in its JobCredits. Every operation is keyed by
the job's reference (`<kind>:<id>`) and the kind's feature, and is idempotent on them, so a
task delivered twice never charges twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.contrib.auth.base_user import AbstractBaseUser


@dataclass(frozen=True)
class Usage:
    """How much of a feature one job used, as the ledger records it (e.g. 6 audio_seconds)."""

    quantity: int
    unit: str


class CreditLedger(Protocol):
    def reserve(
        self,
        *,
        user: AbstractBaseUser,
        amount: int,
        feature: str,
        job_ref: str,
        idempotency_key: str,
        expires_at: datetime,
    ) -> None:
        """Hold `amount` credits of `user` for the job; raise the ledger's refusal (402) if short.

        Called inside the transaction that creates the job, so neither exists without the other.
        """

    def capture(self, *, job_ref: str, feature: str, usage: Usage) -> None:
        """Charge the job's whole reservation and record its usage, once."""

    def release(self, *, job_ref: str, feature: str) -> None:
        """Return the job's reservation to its owner; a settled or absent one is left alone."""

    def release_stale(self, *, is_job_alive: Callable[[str], bool]) -> int:
        """Release reservations past their expiry or whose job is gone; return how many."""

    def record_free_usage(
        self, *, user: AbstractBaseUser, feature: str, job_ref: str, usage: Usage
    ) -> None:
        """Record a use that costs nothing (a reused result), once per job."""
