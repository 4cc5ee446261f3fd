"""Sign-up that does not tell a visitor which emails already have an account.

Whatever the address, the visitor gets the same answer ("check your email") and the address
gets one mail: a new account's confirmation link, or for an existing owner a note of the
attempt. A new account logs in only once that link is opened (accounts.confirmation).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.confirmation import confirmation_token_make
from accounts.models import User
from accounts.selectors import user_get_by_email
from accounts.services import user_create

logger = logging.getLogger(__name__)


def user_signup(*, request: HttpRequest, email: str, password: str) -> None:
    """Create an unconfirmed account for `email` and mail its link, or mail the existing owner.

    Both ways hash the password and send one mail, so neither the answer nor its timing tells
    which happened. An existing owner is told of the attempt, with a password-reset link;
    when that account is still unconfirmed, the reset also confirms it, so a stranger who
    signed up first with the owner's address does not keep a password on the account.
    """
    existing = user_get_by_email(email=email)
    if existing is None:
        try:
            with transaction.atomic():
                user = user_create(email=email, password=password, confirmed=False)
        except IntegrityError:
            # Another sign-up for the same address committed first: answer as for a taken one.
            existing = User.objects.get(email__iexact=email.strip())
        else:
            _mail_confirmation(request=request, user=user)
            return
    make_password(password)
    _mail(
        email=existing.email,
        subject="You already have a Phonoglyph account",
        template="signup_existing_account",
        context={
            **_links(request),
            "email": existing.email,
            "unconfirmed": not existing.is_email_confirmed,
        },
    )
    logger.info("sign-up attempted for an existing account")


def signup_confirmation_resend(*, request: HttpRequest, email: str) -> None:
    """Mail a new confirmation link if `email`'s account awaits one, else say so to the address.

    One mail goes out either way, so the page asking for it tells nothing about the address.
    """
    user = user_get_by_email(email=email)
    if user is not None and not user.is_email_confirmed:
        _mail_confirmation(request=request, user=user)
        return
    _mail(
        email=email,
        subject="Your Phonoglyph confirmation link",
        template="signup_nothing_to_confirm",
        context={**_links(request), "email": email},
    )


def _mail_confirmation(*, request: HttpRequest, user: User) -> None:
    token = confirmation_token_make(user=user)
    _mail(
        email=user.email,
        subject="Confirm your Phonoglyph account",
        template="signup_confirm",
        context={
            **_links(request),
            "email": user.email,
            "confirm_url": request.build_absolute_uri(
                reverse("accounts:signup-confirm", args=[token])
            ),
            "valid_hours": settings.PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE // 3600,
        },
    )


def _links(request: HttpRequest) -> dict[str, object]:
    return {
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
        "reset_url": request.build_absolute_uri(reverse("accounts:password-reset")),
        "signup_url": request.build_absolute_uri(reverse("accounts:signup")),
    }


def _mail(*, email: str, subject: str, template: str, context: dict[str, object]) -> None:
    send_mail(
        subject=subject,
        message=render_to_string(f"registration/{template}_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
