"""The sign-up bonus: granted once, when billing opens a user's account on first need."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_key_create, user_create
from billing.models import CreditGrant, Transfer
from billing.selectors import credit_balance_for_user, ledger_reconcile
from billing.services import (
    credit_account_open,
    credits_grant_monthly,
    credits_reserve,
)
from tests.billing.factories import job_ref
from tests.support.signup import sign_up_and_confirm

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "email": "new.listener@example.com",
    "password1": "a long and unusual passphrase",
    "password2": "a long and unusual passphrase",
}


@pytest.fixture
def bonus(settings) -> int:
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    return 30


def test_a_user_who_just_signed_up_sees_the_bonus_on_the_credits_page(client: Client, bonus):
    sign_up_and_confirm(client, SIGN_UP["email"], SIGN_UP["password1"])
    html = client.get(reverse("billing:credits")).content.decode()
    assert '30</span><span class="muted">available' in html
    assert "Sign-up bonus" in html


def test_a_new_user_sees_the_bonus_in_the_api_balance_and_history(bonus) -> None:
    user = user_create(email="api@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user).raw}")
    balance = client.get(reverse("api:credit-balance"))
    assert balance.json() == {"available": 30, "reserved": 0, "posted": 30}
    history = client.get(reverse("api:credit-transfer-list")).json()["results"]
    assert [(row["kind"], row["amount"]) for row in history] == [("grant", 30)]


def test_the_first_reservation_of_a_new_user_spends_the_bonus(bonus) -> None:
    user = user_create(email="first@example.com")
    credits_reserve(user=user, amount=10, feature="analysis", job_ref=job_ref())
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved, balance.posted) == (20, 10, 30)
    assert ledger_reconcile().ok


def test_the_monthly_grant_opens_the_account_with_the_bonus(bonus, settings) -> None:
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 60
    user = user_create(email="monthly@example.com")
    credits_grant_monthly(user=user)
    assert credit_balance_for_user(user=user).available == 90
    assert sorted(
        CreditGrant.objects.filter(account__user=user).values_list("amount", flat=True)
    ) == [30, 60]


def test_opening_an_account_twice_grants_the_bonus_once(bonus) -> None:
    user = user_create(email="twice@example.com")
    first = credit_account_open(user=user)
    again = credit_account_open(user=user)
    assert first.pk == again.pk
    assert again.available == 30
    assert Transfer.objects.filter(credit_account__user=user).count() == 1


def test_an_account_opened_without_a_bonus_never_gets_one_later(settings) -> None:
    user = User.objects.create_user(email="early@example.com")
    credit_account_open(user=user)
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30
    credit_account_open(user=user)
    assert credit_balance_for_user(user=user).available == 0
    assert not Transfer.objects.filter(credit_account__user=user).exists()
