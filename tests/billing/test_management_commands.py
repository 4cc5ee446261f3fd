from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Transfer
from billing.selectors import credit_balance_for_user

pytestmark = pytest.mark.django_db


def test_grant_credits_grants_to_the_user_with_the_reason(user) -> None:
    out = StringIO()
    call_command("grant_credits", user.email.upper(), "25", "--reason", "beta tester", stdout=out)
    assert f"Granted 25 credits to {user.email}" in out.getvalue()
    assert credit_balance_for_user(user=user).available == 25
    assert Transfer.objects.get().memo == "beta tester"


def test_grant_credits_requires_a_reason(user) -> None:
    with pytest.raises(CommandError):
        call_command("grant_credits", user.email, "25", "--reason", "  ")
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-3"])
def test_grant_credits_refuses_a_non_positive_amount(user, amount: str) -> None:
    with pytest.raises(CommandError, match="positive"):
        call_command("grant_credits", user.email, amount, "--reason", "x")


def test_grant_credits_refuses_an_unknown_email() -> None:
    with pytest.raises(CommandError, match="No user"):
        call_command("grant_credits", "nobody@example.com", "5", "--reason", "x")
