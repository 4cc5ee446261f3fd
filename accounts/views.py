"""Server-rendered account pages: sign-up with email confirmation, throttled log-in, API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.api.authentication import request_user
from accounts.confirmation import ConfirmationLinkRefused, confirmation_user_get, user_email_confirm
from accounts.forms import ApiKeyCreateForm, LoginForm, SignupConfirmResendForm, SignupForm
from accounts.limits import (
    LoginBusy,
    RateLimited,
    known_device_remember,
    login_failure_record,
    login_throttle_check,
    password_hash_slot,
    password_reset_limit_check,
    signup_limit_check,
)
from accounts.models import User
from accounts.preferences import THEME_COOKIE, THEME_COOKIE_MAX_AGE, theme_parse, user_theme_set
from accounts.registration import signup_confirmation_resend, user_signup
from accounts.selectors import api_key_list_for_user
from accounts.services import api_key_create, api_key_revoke
from core.api.exceptions import ratelimited_view
from telemetry.reporting import emit_event

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signup(request: HttpRequest) -> HttpResponse:
    """Sign up; a new address and a taken one get the same answer (accounts.registration)."""
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signup_limit_check(request=request, email=form.cleaned_data["email"])
        except RateLimited as limited:
            return _too_many(request, limited)
        user_signup(
            request=request,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        return redirect("accounts:signup-done")
    return render(request, "registration/signup.html", {"form": form})


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/signup_done.html",
        {"valid_hours": settings.PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE // 3600},
    )


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show the confirmation button for a mailed link; pressing it confirms and logs in.

    Opening the link changes nothing: mail scanners fetch links before their reader does, and
    a single-use link they opened would be spent, with the new session theirs.
    """
    try:
        user = confirmation_user_get(token=token)
    except ConfirmationLinkRefused as refused:
        return _confirmation_refused(request, refused)
    if request.method != "POST":
        return render(request, "registration/signup_confirm.html", {"email": user.email})
    if not user_email_confirm(user=user):
        return _confirmation_refused(request, ConfirmationLinkRefused("used"))
    login(request, user, backend=MODEL_BACKEND)
    return redirect("welcome")


def _confirmation_refused(request: HttpRequest, refused: ConfirmationLinkRefused) -> HttpResponse:
    return render(
        request,
        "registration/signup_confirm_refused.html",
        {"reason": refused.reason},
        status=400,
    )


def signup_confirm_resend(request: HttpRequest) -> HttpResponse:
    """Mail a new confirmation link; the answer is the same whatever the address."""
    form = SignupConfirmResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Sign-up's own limits: asking again is another way to have a mail sent.
            signup_limit_check(request=request, email=form.cleaned_data["email"])
        except RateLimited as limited:
            return _too_many(request, limited)
        signup_confirmation_resend(request=request, email=form.cleaned_data["email"])
        return redirect("accounts:signup-done")
    return render(request, "registration/signup_confirm_resend.html", {"form": form})


def _too_many(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    request.ratelimit_retry_after = limited.retry_after  # type: ignore[attr-defined]
    return ratelimited_view(request)


class LoginView(auth_views.LoginView):
    """Django's log-in page under the limits of accounts.limits (429, or 503 when busy)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = str(request.POST.get("username", ""))
        try:
            login_throttle_check(request=request, email=email)
            with password_hash_slot():
                return super().post(request, *args, **kwargs)
        except RateLimited as limited:
            return _too_many(request, limited)
        except LoginBusy:
            response = render(request, "errors/503.html", status=503)
            response["Retry-After"] = str(LoginBusy.retry_after)
            return response

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        known_device_remember(request=self.request, response=response, email=form.get_user().email)
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        # The right password of an unconfirmed account is no failure to count.
        if not _email_unconfirmed(form):
            login_failure_record(
                request=self.request, email=str(self.request.POST.get("username", ""))
            )
        return super().form_invalid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["email_unconfirmed"] = _email_unconfirmed(context["form"])
        return context


def _email_unconfirmed(form: Form) -> bool:
    return form.is_bound and form.has_error(NON_FIELD_ERRORS, "email_unconfirmed")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's page behind the mailed reset link; the new password also confirms the email.

    The link reached the address's mailbox, which is what a confirmation proves. It is how an
    owner takes back an address a stranger signed up with first (accounts.registration).
    """

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        if isinstance(form.user, User):
            user_email_confirm(user=form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, limited per IP and per email (429) so it cannot send mail in bulk."""

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            password_reset_limit_check(request=self.request, email=form.cleaned_data["email"])
        except RateLimited as limited:
            return _too_many(self.request, limited)
        return super().form_valid(form)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm()
    return render(
        request,
        "accounts/account.html",
        {"form": form, "api_keys": api_key_list_for_user(user=request_user(request))},
    )


@login_required
@require_POST
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "accounts/account.html",
            {"form": form, "api_keys": api_key_list_for_user(user=request_user(request))},
            status=400,
        )
    created = api_key_create(
        user=request_user(request),
        name=form.cleaned_data["name"],
        scopes=form.scopes(),
        expires_at=form.expires_at(),
    )
    emit_event(
        "api_key_created", user_id=request.user.pk, properties={"api_key_id": created.api_key.pk}
    )
    # The raw key is rendered once, in this response, and never stored or shown again.
    return render(
        request,
        "accounts/api_key_created.html",
        {"api_key": created.api_key, "raw_key": created.raw},
        status=201,
    )


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, api_key_id: UUID) -> HttpResponse:
    if api_key_revoke(user=request_user(request), public_id=api_key_id):
        messages.success(request, "The API key was revoked. Requests using it now get 401.")
    else:
        messages.error(request, "No such active API key.")
    return redirect("accounts:account")


@require_POST
def theme_set_view(request: HttpRequest) -> HttpResponse:
    """Switch the colour theme; signed in it is kept on the account, signed out in a cookie."""
    theme = theme_parse(str(request.POST.get("theme", "")))
    target = str(request.POST.get("next", ""))
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        user_theme_set(user=user, theme=theme)
    else:
        response.set_cookie(
            THEME_COOKIE,
            theme,
            max_age=THEME_COOKIE_MAX_AGE,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
    return response
