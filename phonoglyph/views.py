"""Pages that bring the domains together: the landing page, the welcome page and the dashboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.api.authentication import request_user
from analysis.sample import SAMPLE_TRACK
from analysis.selectors import analysis_job_list_for_user, analysis_sample_track_job_for_user
from billing.selectors import credit_balance_for_user, price_for
from billing.services import credit_account_open
from media.selectors import media_list_for_user
from stems.selectors import stem_separation_job_list_for_user

RECENT_ITEMS = 5
# A typical song, to turn the per-minute price into a figure a newcomer can picture.
EXAMPLE_TRACK_MINUTES = 4


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _prices() -> dict[str, int]:
    per_minute = price_for("analysis", 60.0)
    return {
        "per_minute": per_minute,
        "example_minutes": EXAMPLE_TRACK_MINUTES,
        "example": price_for("analysis", EXAMPLE_TRACK_MINUTES * 60.0),
    }


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    """What a new account has, what an analysis costs and what to do first."""
    user = request_user(request)
    credit_account_open(user=user)
    balance = credit_balance_for_user(user=user)
    prices = _prices()
    return render(
        request,
        "welcome.html",
        {
            "balance": balance,
            "bonus": settings.PHONOGLYPH_SIGNUP_BONUS_CREDITS,
            "price": prices,
            "minutes_covered": balance.available // prices["per_minute"]
            if prices["per_minute"]
            else None,
            "sample_track": SAMPLE_TRACK,
            "sample_job": analysis_sample_track_job_for_user(user=user),
        },
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The signed-in home: balance, recent uploads, analyses and stem separations."""
    user = request_user(request)
    credit_account_open(user=user)
    return render(
        request,
        "dashboard.html",
        {
            "balance": credit_balance_for_user(user=user),
            "price": _prices(),
            "uploads": list(media_list_for_user(user=user)[:RECENT_ITEMS]),
            "jobs": list(analysis_job_list_for_user(user=user)[:RECENT_ITEMS]),
            "stem_jobs": list(stem_separation_job_list_for_user(user=user)[:RECENT_ITEMS]),
            "sample_job": analysis_sample_track_job_for_user(user=user),
        },
    )
