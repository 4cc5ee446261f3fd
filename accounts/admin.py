from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest

from accounts.models import ApiKey, Plan, User


class EmailUserCreationForm(UserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email",)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "plan",
        "is_staff",
        "is_active",
        "date_joined",
        "email_confirmed_at",
        "last_login",
    )
    list_filter = ("plan", "is_staff", "is_active", "is_superuser")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password", "plan")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        # Empty: the sign-up's mailed link was not opened yet, so the user cannot log in.
        ("Dates", {"fields": ("last_login", "date_joined", "email_confirmed_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__email")
    readonly_fields = (
        "public_id",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "parent",
    )
    raw_id_fields = ("user",)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    """Staff edit plans; the `free` plan is every user's without one, so it cannot go."""

    list_display = (
        "name",
        "requests_per_minute",
        "requests_per_day",
        "concurrent_jobs",
        "monthly_free_credits",
    )

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        return obj is None or obj.name != Plan.FREE
