"""The credits ledger as the job lifecycle sees it (jobs.credits.CreditLedger).

An adapter over the public billing services: the job layer reserves, captures and releases
by job reference and never learns how the ledger posts them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser

from accounts.models import User
from billing.services import (
    credits_capture,
    credits_release,
    credits_release_stale,
    credits_reserve,
    feature_usage_record_free,
)
from jobs.credits import Usage


def _holder(user: AbstractBaseUser) -> User:
    """The account holder; the ledger keeps accounts for the project's user model only."""
    if not isinstance(user, User):
        raise TypeError(f"Credits belong to a {User.__name__}, not a {type(user).__name__}.")
    return user


class BillingLedger:
    """jobs.credits.CreditLedger over billing.services; each call is one of its services."""

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
        credits_reserve(
            user=_holder(user),
            amount=amount,
            feature=feature,
            job_ref=job_ref,
            idempotency_key=idempotency_key,
            expires_at=expires_at,
        )

    def capture(self, *, job_ref: str, feature: str, usage: Usage) -> None:
        credits_capture(
            job_ref=job_ref,
            feature=feature,
            usage_quantity=usage.quantity,
            usage_unit=usage.unit,
        )

    def release(self, *, job_ref: str, feature: str) -> None:
        credits_release(job_ref=job_ref, feature=feature)

    def release_stale(self, *, is_job_alive: Callable[[str], bool]) -> int:
        return credits_release_stale(is_job_alive=is_job_alive)

    def record_free_usage(
        self, *, user: AbstractBaseUser, feature: str, job_ref: str, usage: Usage
    ) -> None:
        feature_usage_record_free(
            user=_holder(user),
            feature=feature,
            job_ref=job_ref,
            usage_quantity=usage.quantity,
            usage_unit=usage.unit,
        )


JOB_LEDGER = BillingLedger()
