"""Billing test data, built through the real services so balances stay explained."""

from __future__ import annotations

import uuid

from accounts.models import User
from billing.services import credits_grant


def fund(user: User, amount: int) -> None:
    """Grant `user` non-expiring credits through `credits_grant`."""
    credits_grant(user=user, amount=amount, reason="test funding")


def job_ref() -> str:
    return f"analysis:{uuid.uuid4()}"
