"""Sign-up confirms the email before the first log-in, and answers every address alike."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.test import Client
from django.test.client import Client as DjangoClient
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import EmailUnconfirmed, api_key_create, user_create
from billing.models import CreditAccount
from billing.selectors import credit_balance_for_user
from billing.services import credits_grant_monthly_all
from tests.factories import DEFAULT_PASSWORD
from tests.support.signup import confirmation_path, sign_up_and_confirm

pytestmark = pytest.mark.django_db

PASSPHRASE = "a long pass phrase"
# Values that differ between any two requests, whoever sends them.
CSRF_FIELD_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')
PER_REQUEST_HEADERS = {"Set-Cookie", "X-Request-ID"}


def _sign_up(email: str, password: str = PASSPHRASE) -> tuple[DjangoClient, object]:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": password, "password2": password},
    )
    return client, response


def _answer(client: DjangoClient, response: object) -> dict[str, object]:
    """Everything a visitor sees of the sign-up answer and the page it leads to."""
    headers = {
        name: value
        for name, value in response.headers.items()  # type: ignore[attr-defined]
        if name not in PER_REQUEST_HEADERS
    }
    cookies = {
        name: {key: value for key, value in morsel.items() if value}
        for name, morsel in response.cookies.items()  # type: ignore[attr-defined]
    }
    landing = client.get(response["Location"])  # type: ignore[index]
    return {
        "status": response.status_code,  # type: ignore[attr-defined]
        "headers": headers,
        "cookies": cookies,
        "body": response.content,  # type: ignore[attr-defined]
        "landing_status": landing.status_code,
        "landing_body": CSRF_FIELD_VALUE.sub(r"\1", landing.content.decode()),
        "landing_cookies": sorted(landing.cookies),
        "logged_in": client.get(reverse("accounts:account")).status_code == 200,
    }


def test_a_new_and_a_taken_email_get_the_same_answer(user: User) -> None:
    pending = user_create(email="pending@example.com", password=DEFAULT_PASSWORD, confirmed=False)

    new = _answer(*_sign_up("fresh@example.com"))
    taken = _answer(*_sign_up(user.email.upper()))
    unconfirmed = _answer(*_sign_up(pending.email))

    assert new == taken == unconfirmed
    assert new["status"] == 302
    assert new["headers"]["Location"] == reverse("accounts:signup-done")  # type: ignore[index]
    assert b"Check your email" in new["landing_body"].encode()  # type: ignore[attr-defined]
    assert new["logged_in"] is False
    assert [message.to for message in mail.outbox] == [
        ["fresh@example.com"],
        [user.email],
        [pending.email],
    ]
    assert "/account/signup/confirm/" in mail.outbox[0].body
    assert "already has an account" in mail.outbox[1].body
    assert "/account/signup/confirm/" not in mail.outbox[1].body


def test_a_taken_email_keeps_its_password(user: User) -> None:
    _sign_up(user.email, "some other pass phrase")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.is_email_confirmed


def test_an_unconfirmed_sign_up_has_no_credits_until_confirmed(settings: object) -> None:
    settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS = 30  # type: ignore[attr-defined]
    settings.PHONOGLYPH_MONTHLY_FREE_CREDITS = 50  # type: ignore[attr-defined]
    _sign_up("farmer@example.com")
    farmer = User.objects.get(email="farmer@example.com")

    assert not farmer.is_email_confirmed
    credits_grant_monthly_all()
    assert not CreditAccount.objects.filter(user=farmer).exists()
    with pytest.raises(EmailUnconfirmed):
        api_key_create(user=farmer)

    sign_up_and_confirm(Client(), "second@example.com", PASSPHRASE)
    second = User.objects.get(email="second@example.com")
    # Opened by the confirmation itself, before any page showed a balance.
    assert credit_balance_for_user(user=second).available == 30


def test_the_link_asks_first_then_logs_in_once_and_is_then_refused() -> None:
    _sign_up("once@example.com")
    path = confirmation_path("once@example.com")
    client = Client()

    page = client.get(path)
    assert page.status_code == 200
    assert b"Confirm and log in" in page.content
    assert not User.objects.get(email="once@example.com").is_email_confirmed

    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("welcome")
    assert client.get(reverse("welcome")).status_code == 200
    assert User.objects.get(email="once@example.com").is_email_confirmed

    again = Client()
    for response in (again.post(path), again.get(path)):
        assert response.status_code == 400
        assert b"already used" in response.content
        assert reverse("accounts:signup-confirm-resend").encode() in response.content
    assert again.get(reverse("accounts:account")).status_code == 302


def test_an_expired_link_is_refused_with_a_way_to_get_a_new_one(settings: object) -> None:
    _sign_up("late@example.com")
    issued = int(time.time())
    path = confirmation_path("late@example.com")
    assert Client().get(path).status_code == 200

    settings.PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE = 1  # type: ignore[attr-defined]
    # The link's time is in whole seconds: past issued + 1 it is older than a second.
    time.sleep(max(0.0, issued + 1.1 - time.time()))
    client = Client()
    response = client.post(path)
    assert response.status_code == 400
    assert b"has expired" in response.content
    assert b"Get a new confirmation link" in response.content
    assert not User.objects.get(email="late@example.com").is_email_confirmed
    assert client.get(reverse("accounts:account")).status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/account/signup/confirm/not-a-signed-link/",
        "/account/signup/confirm/eyJ1c2VyIjoxfQ:1vQ0aa:forgedsignatureforgedsignatu/",
    ],
)
def test_a_forged_link_is_refused(path: str) -> None:
    response = Client().post(path)
    assert response.status_code == 400
    assert b"not valid" in response.content


def test_a_new_link_replaces_one_whose_account_changed_password(user: User) -> None:
    _sign_up("changed@example.com")
    path = confirmation_path("changed@example.com")
    changed = User.objects.get(email="changed@example.com")
    changed.set_password("another long phrase")
    changed.save()
    assert Client().post(path).status_code == 400


def test_an_unconfirmed_account_hears_so_only_with_the_right_password() -> None:
    _sign_up("wait@example.com")
    login = reverse("accounts:login")

    wrong = Client().post(login, {"username": "wait@example.com", "password": "wrong"})
    unknown = Client().post(login, {"username": "nobody@example.com", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 200
    assert b"Confirm your email" not in wrong.content
    assert b"Please enter a correct" in wrong.content

    client = Client()
    right = client.post(login, {"username": "wait@example.com", "password": PASSPHRASE})
    assert right.status_code == 200
    assert b"Confirm your email first" in right.content
    assert reverse("accounts:signup-confirm-resend").encode() in right.content
    assert client.get(reverse("accounts:account")).status_code == 302

    api = APIClient()
    body = {"email": "wait@example.com", "password": PASSPHRASE}
    assert (
        api.post("/api/v1/auth/login/", {**body, "password": "wrong"}, format="json").json()["code"]
        == "invalid_credentials"
    )
    refused = api.post("/api/v1/auth/login/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "email_unconfirmed"
    assert "sessionid" not in refused.cookies

    sign_in = Client()
    sign_in.post(confirmation_path("wait@example.com"))
    assert api.post("/api/v1/auth/login/", body, format="json").status_code == 200


def test_resending_answers_alike_and_mails_a_link_only_to_a_pending_account(user: User) -> None:
    _sign_up("pending@example.com")
    mail.outbox.clear()
    resend = reverse("accounts:signup-confirm-resend")

    answers = [
        Client().post(resend, {"email": email})
        for email in ("pending@example.com", user.email, "nobody@example.com")
    ]
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {
        (302, reverse("accounts:signup-done"))
    }
    assert [message.to for message in mail.outbox] == [
        ["pending@example.com"],
        [user.email],
        ["nobody@example.com"],
    ]
    assert "/account/signup/confirm/" in mail.outbox[0].body
    assert all("/account/signup/confirm/" not in m.body for m in mail.outbox[1:])
    assert "no account waits for confirmation" in mail.outbox[2].body

    client = Client()
    assert client.post(confirmation_path("pending@example.com")).status_code == 302


def test_resending_is_limited_per_email(settings: object) -> None:
    settings.PHONOGLYPH_SIGNUPS_PER_EMAIL_PER_HOUR = 2  # type: ignore[attr-defined]
    resend = reverse("accounts:signup-confirm-resend")
    statuses = [
        Client(REMOTE_ADDR=f"10.0.1.{n}").post(resend, {"email": "x@example.com"}).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_the_owner_takes_back_an_address_a_stranger_signed_up_with_by_resetting() -> None:
    _sign_up("owner@example.com", "the strangers pass phrase")
    mail.outbox.clear()

    _sign_up("owner@example.com", PASSPHRASE)
    assert "not been confirmed yet" in mail.outbox[0].body
    client = Client()
    client.post(reverse("accounts:password-reset"), {"email": "owner@example.com"})
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/password/reset/" in line)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "the owners own phrase", "new_password2": "the owners own phrase"},
    )

    owner = User.objects.get(email="owner@example.com")
    assert owner.is_email_confirmed
    login = reverse("accounts:login")
    stranger = Client().post(
        login, {"username": "owner@example.com", "password": "the strangers pass phrase"}
    )
    assert b"Please enter a correct" in stranger.content
    assert (
        Client()
        .post(login, {"username": "owner@example.com", "password": "the owners own phrase"})
        .status_code
        == 302
    )
