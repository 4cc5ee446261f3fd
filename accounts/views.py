"""Server-rendered account pages: sign-up, log-in with throttling, API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.api.authentication import request_user
from accounts.forms import ApiKeyCreateForm, LoginForm, SignupForm
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
from accounts.registration import user_signup
from accounts.selectors import api_key_list_for_user
from accounts.services import api_key_create, api_key_revoke
from core.api.exceptions import ratelimited_view
from telemetry.reporting import emit_event

SIGNED_UP_MESSAGE = "Thanks for signing up to Phonoglyph. We sent you an email."


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signup_limit_check(request=request, email=form.cleaned_data["email"])
        except RateLimited as limited:
            return _too_many(request, limited)
        user = user_signup(
            request=request,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        if user is None:
            # Same answer as a new account (a redirect with fresh session and CSRF cookies and
            # the same message): the owner of the email was told by mail instead.
            request.session.cycle_key()
            rotate_token(request)
            request.session["signup_mailed"] = True
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            emit_event("user_signed_up", user_id=user.pk, properties={"method": "form"})
        messages.success(request, SIGNED_UP_MESSAGE)
        return redirect("welcome")
    return render(request, "registration/signup.html", {"form": form})


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
        login_failure_record(request=self.request, email=str(self.request.POST.get("username", "")))
        return super().form_invalid(form)


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
