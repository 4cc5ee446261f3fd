"""With Redis unreachable, a balance falling low does not fail the ledger change."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from billing.selectors import credit_balance_for_user
from billing.services import credits_grant, credits_reserve

pytestmark = pytest.mark.django_db


def test_credits_falling_low_while_the_cache_is_down_do_not_fail_the_change(
    unreachable_redis: str, user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PHONOGLYPH_CREDITS_LOW_THRESHOLD = 10
    credits_grant(user=user, amount=15, reason="test")

    with django_capture_on_commit_callbacks(execute=True):
        credits_reserve(user=user, amount=8, feature="analysis", job_ref="analysis:low")

    assert credit_balance_for_user(user=user).available == 7
