"""Billing test data, built through the real services so balances stay explained."""

from __future__ import annotations

import uuid

import factory

from accounts.models import User
from billing.models import PriceOverride
from billing.services import credits_grant


class PriceOverrideFactory(factory.django.DjangoModelFactory[PriceOverride]):
    class Meta:
        model = PriceOverride

    feature = "analysis"
    credits_per_minute = 2


def fund(user: User, amount: int, **kwargs: object) -> None:
    """Grant `user` credits through `credits_grant`."""
    credits_grant(user=user, amount=amount, reason="test funding", **kwargs)  # type: ignore[arg-type]


def job_ref() -> str:
    return f"analysis:{uuid.uuid4()}"
