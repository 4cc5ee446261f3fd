"""The user's credits page: balance, usage chart and history."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.api.authentication import request_user
from billing.charts import usage_chart
from billing.history import credit_history_for_user, history_lines
from billing.selectors import credit_balance_for_user, usage_by_day_for_user
from billing.services import credit_account_open

CHART_DAYS = 30
HISTORY_PAGE_SIZE = 25


@login_required
def credits_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    # A new user sees the sign-up bonus, which billing grants when it opens the account.
    credit_account_open(user=user)
    end = timezone.now().date()
    start = end - timedelta(days=CHART_DAYS - 1)
    days = usage_by_day_for_user(user=user, start=start, end=end)
    history = Paginator(credit_history_for_user(user=user), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/credits.html",
        {
            "balance": credit_balance_for_user(user=user),
            "chart": usage_chart(days=days, start=start, end=end),
            "features": sorted({day.feature for day in days}),
            "history": history,
            "history_lines": history_lines(history),
        },
    )
