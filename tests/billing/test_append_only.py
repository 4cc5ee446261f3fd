"""Transfers are history: never changed or deleted, and the database enforces the balances."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.models import F

from billing.models import AppendOnlyError, CreditAccount, Transfer
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db


def test_a_saved_transfer_cannot_be_saved_again(user) -> None:
    fund(user, 5)
    transfer = Transfer.objects.get()
    transfer.amount = 500
    with pytest.raises(AppendOnlyError):
        transfer.save()


def test_a_transfer_cannot_be_deleted(user) -> None:
    fund(user, 5)
    with pytest.raises(AppendOnlyError):
        Transfer.objects.get().delete()
    with pytest.raises(AppendOnlyError):
        Transfer.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Transfer.objects.all().update(amount=1)
    assert Transfer.objects.get().amount == 5


def test_postgres_refuses_updating_or_deleting_transfers_in_sql(postgres_url, user) -> None:
    fund(user, 5)
    for statement in ("UPDATE billing_transfer SET amount = 1", "DELETE FROM billing_transfer"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Transfer.objects.get().amount == 5


def test_the_database_refuses_a_negative_available_balance(user) -> None:
    fund(user, 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=user).update(debits_pending=F("debits_pending") + 6)


def test_the_database_refuses_a_transfer_of_zero_credits(user) -> None:
    fund(user, 5)
    grant = Transfer.objects.get()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Transfer.objects.create(
            debit_account=grant.debit_account,
            credit_account=grant.credit_account,
            amount=0,
            kind="grant",
            idempotency_key="zero",
        )
