from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from accounts.models import ApiKey, User


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def clean_email(self) -> str:
        # Whether the email is taken is not said here: see accounts.registration.user_signup.
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            # The would-be user lets the similarity validator refuse a password like the email.
            candidate = User(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignupConfirmResendForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


EMAIL_UNCONFIRMED_MESSAGE = (
    "Confirm your email first: open the link we mailed you when you signed up."
)


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True})
    )

    def confirm_login_allowed(self, user: Any) -> None:
        """Refuse an unconfirmed account; only reached once its password was verified."""
        super().confirm_login_allowed(user)
        if not user.is_email_confirmed:
            raise forms.ValidationError(EMAIL_UNCONFIRMED_MESSAGE, code="email_unconfirmed")


class ApiKeyCreateForm(forms.Form):
    EXPIRY_CHOICES = (
        ("", "Never"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In a year"),
    )

    name = forms.CharField(max_length=100, required=False, label="Key name")
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Expires",
    )
    can_manage_keys = forms.BooleanField(required=False, label="May create and revoke API keys")

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return None if days is None else timezone.now() + timedelta(days=days)

    def scopes(self) -> list[str]:
        return [ApiKey.Scope.API_KEYS] if self.cleaned_data.get("can_manage_keys") else []
