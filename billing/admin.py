"""Staff surface of the ledger: accounts, read-only history, grants and adjustments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.api.authentication import request_user
from billing.forms import CreditMovementForm
from billing.models import (
    CreditAccount,
    CreditGrant,
    FeatureUsage,
    PriceOverride,
    Transfer,
)
from billing.selectors import usage_by_day
from billing.services import credits_adjust, credits_grant
from core.api.exceptions import DomainError

USAGE_DAYS = 90
M = TypeVar("M", bound=models.Model)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """History is never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin[CreditAccount]):
    list_display = (
        "__str__",
        "kind",
        "user",
        "available_credits",
        "debits_pending",
        "credits_posted",
        "debits_posted",
        "move_link",
    )
    list_filter = ("kind",)
    search_fields = ("user__email",)
    list_select_related = ("user",)

    @admin.display(description="available")
    def available_credits(self, account: CreditAccount) -> int:
        return account.available

    @admin.display(description="")
    def move_link(self, account: CreditAccount) -> str:
        if account.user_id is None:
            return ""
        url = reverse("admin:billing_creditaccount_move", args=[account.pk])
        return format_html('<a href="{}">Grant or adjust…</a>', url)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:account_id>/move/",
                self.admin_site.admin_view(self.move_view),
                name="billing_creditaccount_move",
            )
        ]
        return extra + super().get_urls()

    def move_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        """Grant or adjust one user's credits with a mandatory reason, audited to the staff user."""
        staff = request_user(request)
        # Moving credits is a change to the account, whatever the read-only admin shows.
        if not (staff.is_staff and staff.has_perm("billing.change_creditaccount")):
            raise PermissionDenied
        account = get_object_or_404(CreditAccount, pk=account_id, user__isnull=False)
        assert account.user is not None  # noqa: S101  # the lookup above excludes system accounts
        form = CreditMovementForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["operation"] == CreditMovementForm.GRANT:
                    credits_grant(
                        user=account.user,
                        amount=data["amount"],
                        reason=data["reason"],
                        expires_at=data["expires_at"],
                        actor=staff,
                    )
                else:
                    credits_adjust(
                        user=account.user,
                        amount=data["amount"],
                        reason=data["reason"],
                        actor=staff,
                    )
            except (DomainError, ValueError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Credits of {account.user.email} updated.")
                return HttpResponseRedirect(reverse("admin:billing_creditaccount_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Grant or adjust credits of {account.user.email}",
            "account": account,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/credit_move.html", context)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin[Transfer]):
    list_display = (
        "created_at",
        "kind",
        "amount",
        "debit_account",
        "credit_account",
        "feature",
        "job_ref",
        "actor",
        "memo",
    )
    list_filter = ("kind", "feature")
    search_fields = ("job_ref", "idempotency_key", "memo", "debit_account__user__email")
    date_hierarchy = "created_at"
    list_select_related = ("debit_account", "credit_account", "actor")


@admin.register(CreditGrant)
class CreditGrantAdmin(ReadOnlyAdmin[CreditGrant]):
    list_display = ("pk", "account", "amount", "remaining", "priority", "expires_at", "created_at")
    search_fields = ("account__user__email",)
    list_select_related = ("account",)


@admin.register(FeatureUsage)
class FeatureUsageAdmin(ReadOnlyAdmin[FeatureUsage]):
    list_display = ("created_at", "user", "feature", "quantity", "unit", "cost", "job_ref")
    list_filter = ("feature",)
    search_fields = ("user__email", "job_ref")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    change_list_template = "admin/billing/featureusage_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "by-day/",
                self.admin_site.admin_view(self.by_day_view),
                name="billing_featureusage_by_day",
            )
        ]
        return extra + super().get_urls()

    def by_day_view(self, request: HttpRequest) -> HttpResponse:
        """Usage of all users per day and feature, last USAGE_DAYS days."""
        end = timezone.now().date()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Usage by feature and day (last {USAGE_DAYS} days)",
            "rows": usage_by_day(start=end - timedelta(days=USAGE_DAYS - 1), end=end),
            "opts": self.model._meta,
        }
        return render(request, "admin/billing/usage_by_day.html", context)


@admin.register(PriceOverride)
class PriceOverrideAdmin(admin.ModelAdmin[PriceOverride]):
    list_display = ("feature", "credits_per_minute", "updated_at")
