"""Sign-up that does not tell a visitor which emails already have an account."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_get_by_email
from accounts.services import user_create

logger = logging.getLogger(__name__)


def user_signup(*, request: HttpRequest, email: str, password: str) -> User | None:
    """Create the account for `email`, or mail its owner when it already exists.

    Returns the new user, or None when the email was taken: the caller must answer both the
    same way, so the page reveals nothing. Either way one mail goes to the address: a welcome,
    or for an existing owner a note of the attempt with a link to reset the password.
    """
    context = {
        "email": email,
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
        "reset_url": request.build_absolute_uri(reverse("accounts:password-reset")),
    }
    if user_get_by_email(email=email) is None:
        user = user_create(email=email, password=password)
        _mail(email=email, subject="Welcome to Phonoglyph", template="welcome", context=context)
        return user
    _mail(
        email=email,
        subject="You already have a Phonoglyph account",
        template="existing_account",
        context=context,
    )
    logger.info("sign-up attempted for an existing account")
    return None


def _mail(*, email: str, subject: str, template: str, context: dict[str, str]) -> None:
    send_mail(
        subject=subject,
        message=render_to_string(f"registration/signup_{template}_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
