"""Reads for accounts, scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings
from django.db.models import QuerySet

from accounts.cache import plan_cached
from accounts.models import ApiKey, Plan, User


def api_key_list_for_user(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).select_related("parent").order_by("-created_at")


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


@dataclass(frozen=True)
class PlanLimits:
    """A user's plan as the rate limiter, the job layer and billing read it."""

    name: str
    requests_per_minute: int
    requests_per_day: int
    concurrent_jobs: int
    monthly_free_credits: int


# What the free plan allows when its row is missing (a database not migrated yet).
_FREE_FALLBACK = Plan(
    name=Plan.FREE, requests_per_minute=60, requests_per_day=1000, concurrent_jobs=2
)


def _plan_load(plan_id: int | None) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id is not None else None
    return plan or Plan.objects.filter(name=Plan.FREE).first() or _FREE_FALLBACK


def plan_for_user(*, user: User | None) -> PlanLimits:
    """The limits of `user`'s plan; no user (anonymous) and no plan mean the `free` plan.

    The free plan's request budgets and concurrent jobs yield to PHONOGLYPH_FREE_* settings
    when those are set; monthly free credits default to PHONOGLYPH_MONTHLY_FREE_CREDITS.
    """
    plan_id = user.plan_id if user is not None else None
    plan = plan_cached(plan_id, lambda: _plan_load(plan_id))
    limits = PlanLimits(
        name=plan.name,
        requests_per_minute=plan.requests_per_minute,
        requests_per_day=plan.requests_per_day,
        concurrent_jobs=plan.concurrent_jobs,
        monthly_free_credits=(
            settings.PHONOGLYPH_MONTHLY_FREE_CREDITS
            if plan.monthly_free_credits is None
            else plan.monthly_free_credits
        ),
    )
    if plan.name != Plan.FREE:
        return limits
    per_minute = settings.PHONOGLYPH_FREE_REQUESTS_PER_MINUTE
    per_day = settings.PHONOGLYPH_FREE_REQUESTS_PER_DAY
    concurrent = settings.PHONOGLYPH_FREE_CONCURRENT_JOBS
    return replace(
        limits,
        requests_per_minute=limits.requests_per_minute if per_minute is None else per_minute,
        requests_per_day=limits.requests_per_day if per_day is None else per_day,
        concurrent_jobs=limits.concurrent_jobs if concurrent is None else concurrent,
    )
