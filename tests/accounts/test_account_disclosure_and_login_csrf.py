"""Sign-up tells nobody which emails have accounts; passwords unlike the email; no log-in CSRF."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PASSPHRASE = "a long pass phrase"


def _signup(email: str, password: str = PASSPHRASE) -> tuple[Client, object]:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": password, "password2": password},
    )
    return client, response


def test_signing_up_with_a_taken_email_answers_like_a_new_one_and_mails_the_owner(
    user: User,
) -> None:
    _, new = _signup("fresh@example.com")
    _, taken = _signup(user.email.upper())

    assert new.status_code == taken.status_code == 302  # type: ignore[attr-defined]
    assert new["Location"] == taken["Location"]  # type: ignore[index]
    assert set(new.cookies) == set(taken.cookies)  # type: ignore[attr-defined]
    assert b"already" not in taken.content  # type: ignore[attr-defined]
    assert User.objects.filter(email=user.email).count() == 1
    assert [message.to for message in mail.outbox] == [["fresh@example.com"], [user.email]]
    assert "already has an account" in mail.outbox[1].body
    assert "/account/password/reset/" in mail.outbox[1].body
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_signup_refuses_a_password_like_the_email() -> None:
    _, response = _signup("jonathan.richardson@example.com", "jonathan.richardson")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert b"too similar" in response.content  # type: ignore[attr-defined]
    assert not User.objects.exists()


def test_password_change_refuses_a_password_like_the_email(db: None) -> None:
    person = User.objects.create_user("margaret.hamilton@example.com", DEFAULT_PASSWORD)
    client = Client()
    client.force_login(person)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "margaret.hamilton",
            "new_password2": "margaret.hamilton",
        },
    )
    assert response.status_code == 200
    assert b"too similar" in response.content
    person.refresh_from_db()
    assert person.check_password(DEFAULT_PASSWORD)


def test_api_login_refuses_a_form_encoded_post(user: User) -> None:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}],
)
def test_api_login_refuses_a_cross_site_browser_request(
    user: User, headers: dict[str, str]
) -> None:
    client = APIClient()
    client.credentials(**headers)
    response = client.post(
        "/api/v1/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "sessionid" not in response.cookies


def test_api_login_from_our_own_page_or_without_a_browser_works(user: User) -> None:
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    same_site = APIClient().post(
        "/api/v1/auth/login/", body, format="json", HTTP_ORIGIN="http://testserver"
    )
    assert same_site.status_code == 200
    assert "sessionid" in same_site.cookies
    assert APIClient().post("/api/v1/auth/login/", body, format="json").status_code == 200
