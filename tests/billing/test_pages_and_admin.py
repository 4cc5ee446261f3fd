from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from billing.models import CreditAccount, Transfer
from billing.selectors import credit_balance_for_user
from billing.services import credits_capture, credits_reserve
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(email="root@example.com", password="s3cret-enough")


def test_credits_page_shows_balance_usage_chart_and_history(client: Client, user) -> None:
    fund(user, 20)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", usage_quantity=200)
    client.force_login(user)
    response = client.get(reverse("billing:credits"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '16</span><span class="muted">available' in html
    assert '<rect class="usage-bar usage-analysis"' in html
    assert ref in html
    assert "style=" not in html
    assert "<script>" not in html
    assert 'href="/credits/"' in html


def test_credits_page_requires_login(client: Client) -> None:
    response = client.get(reverse("billing:credits"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_transfers_cannot_be_added_changed_or_deleted_in_the_admin(client, superuser, user):
    fund(user, 5)
    transfer = Transfer.objects.get()
    client.force_login(superuser)
    assert client.get(reverse("admin:billing_transfer_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_transfer_add")).status_code == 403
    assert (
        client.post(reverse("admin:billing_transfer_delete", args=[transfer.pk])).status_code == 403
    )
    change = client.post(
        reverse("admin:billing_transfer_change", args=[transfer.pk]), {"amount": 500}
    )
    assert change.status_code in (200, 403)
    assert Transfer.objects.get().amount == 5


def test_staff_grant_in_the_admin_needs_a_reason_and_records_the_staff_user(
    client, superuser, user
) -> None:
    fund(user, 1)
    account = CreditAccount.objects.get(user=user)
    url = reverse("admin:billing_creditaccount_move", args=[account.pk])
    client.force_login(superuser)
    missing = client.post(url, {"operation": "grant", "amount": 10, "reason": " "})
    assert missing.status_code == 200
    assert credit_balance_for_user(user=user).available == 1
    done = client.post(url, {"operation": "grant", "amount": 10, "reason": "support ticket 7"})
    assert done.status_code == 302
    grant = Transfer.objects.order_by("-pk").first()
    assert grant is not None
    assert (grant.amount, grant.memo, grant.actor) == (10, "support ticket 7", superuser)
    assert credit_balance_for_user(user=user).available == 11


def test_staff_adjustment_in_the_admin_can_remove_credits(client, superuser, user) -> None:
    fund(user, 8)
    account = CreditAccount.objects.get(user=user)
    client.force_login(superuser)
    url = reverse("admin:billing_creditaccount_move", args=[account.pk])
    client.post(url, {"operation": "adjust", "amount": -3, "reason": "double grant"})
    assert credit_balance_for_user(user=user).available == 5
    too_much = client.post(url, {"operation": "adjust", "amount": -30, "reason": "oops"})
    assert too_much.status_code == 200
    assert b"available" in too_much.content
    assert credit_balance_for_user(user=user).available == 5


def test_staff_without_billing_permission_cannot_move_credits(client, staff_user, user) -> None:
    fund(user, 8)
    account = CreditAccount.objects.get(user=user)
    client.force_login(staff_user)
    url = reverse("admin:billing_creditaccount_move", args=[account.pk])
    response = client.post(url, {"operation": "grant", "amount": 5, "reason": "x"})
    assert response.status_code == 403
    assert credit_balance_for_user(user=user).available == 8


def test_admin_shows_usage_by_feature_and_day(client, superuser, user) -> None:
    fund(user, 8)
    ref = job_ref()
    credits_reserve(user=user, amount=2, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", usage_quantity=90)
    client.force_login(superuser)
    response = client.get(reverse("admin:billing_featureusage_by_day"))
    assert response.status_code == 200
    assert b"<td>analysis</td><td>1</td><td>90</td>" in response.content


@pytest.mark.parametrize(
    "name",
    [
        "admin:billing_creditaccount_changelist",
        "admin:billing_creditgrant_changelist",
        "admin:billing_featureusage_changelist",
        "admin:billing_priceoverride_changelist",
        "admin:billing_priceoverride_add",
    ],
)
def test_billing_admin_pages_render(client, superuser, user, name: str) -> None:
    fund(user, 3)
    client.force_login(superuser)
    response = client.get(reverse(name))
    assert response.status_code == 200


def test_account_list_links_each_user_account_to_grant_or_adjust(client, superuser, user):
    fund(user, 3)
    client.force_login(superuser)
    response = client.get(reverse("admin:billing_creditaccount_changelist"))
    move = reverse("admin:billing_creditaccount_move", args=[user.credit_account.pk])
    assert move.encode() in response.content
