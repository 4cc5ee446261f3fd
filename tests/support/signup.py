"""Sign up as a person does: fill in the page, open the mailed link, press Confirm."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/account/signup/confirm/[^\s]+/)")


def confirmation_path(email: str) -> str:
    """The path of the latest confirmation link mailed to `email` (locmem outbox)."""
    for message in reversed(mail.outbox):
        if message.to == [email]:
            found = CONFIRM_LINK.search(str(message.body))
            if found:
                return found.group(1)
    raise AssertionError(f"No confirmation link was mailed to {email}.")


def sign_up_and_confirm(client: Client, email: str, password: str) -> Client:
    """Sign `email` up through the page and confirm it; `client` ends on the welcome page."""
    response = client.post(
        reverse("accounts:signup"),
        {"email": email, "password1": password, "password2": password},
    )
    assert response.status_code == 302, response.status_code
    assert response["Location"] == reverse("accounts:signup-done")
    # What follows the confirmation's commit (the user_signed_up event, the credit account)
    # runs here too, as it does outside the test's transaction.
    with TestCase.captureOnCommitCallbacks(execute=True):
        confirmed = client.post(confirmation_path(email))
    assert confirmed.status_code == 302, confirmed.status_code
    assert confirmed["Location"] == reverse("welcome")
    return client
