from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD
from tests.support.signup import confirmation_path

pytestmark = pytest.mark.django_db


def test_signup_creates_the_user_who_is_logged_in_by_the_mailed_link() -> None:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "New@Example.com",
            "password1": "a long pass phrase",
            "password2": "a long pass phrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()
    assert client.get(reverse("accounts:account")).status_code == 302
    client.post(confirmation_path("new@example.com"))
    account = client.get(reverse("accounts:account"))
    assert account.status_code == 200
    assert b"new@example.com" in account.content


def test_signup_refuses_mismatched_passwords_with_a_form_error() -> None:
    response = Client().post(
        reverse("accounts:signup"),
        {"email": "a@example.com", "password1": "a long pass phrase", "password2": "another one"},
    )
    assert response.status_code == 200
    assert b"do not match" in response.content
    assert not User.objects.exists()


def test_signup_with_an_existing_email_does_not_say_so(user: User) -> None:
    # Sign-up no longer reveals which emails have accounts: the owner gets a mail instead
    # (tests/accounts/test_account_disclosure_and_login_csrf.py).
    response = Client().post(
        reverse("accounts:signup"),
        {
            "email": user.email.upper(),
            "password1": "a long pass phrase",
            "password2": "a long pass phrase",
        },
    )
    assert b"already exists" not in response.content
    assert len(mail.outbox) == 1


def test_signup_form_is_csrf_protected() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "a@example.com",
            "password1": "a long pass phrase",
            "password2": "a long pass phrase",
        },
    )
    assert response.status_code == 403
    assert not User.objects.exists()


def test_login_with_right_password_reaches_account_page(user: User) -> None:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:account")).status_code == 200


def test_login_with_wrong_password_shows_an_error(user: User) -> None:
    response = Client().post(
        reverse("accounts:login"), {"username": user.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"correct email" in response.content or b"Please enter a correct" in response.content


def test_logout_ends_the_session(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    account = client.get(reverse("accounts:account"))
    assert account.status_code == 302
    assert reverse("accounts:login") in account["Location"]


def test_password_change_requires_the_old_password(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "brand new phrase 42",
            "new_password2": "brand new phrase 42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand new phrase 42")


def test_password_reset_sends_a_link_that_sets_a_new_password(user: User) -> None:
    client = Client()
    client.post(reverse("accounts:password-reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "reset pass phrase 99", "new_password2": "reset pass phrase 99"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("reset pass phrase 99")
