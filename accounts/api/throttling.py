"""Every /api/v1/ request spends from its caller's plan budgets (accounts.Plan).

A read costs 1 unit, a write 5; a view charges more for some methods by naming them in
`rate_limit_costs` (starting a job: 10). Anonymous callers spend from the free plan's budget
per IP address. Over budget: 429 problem+json `rate_limited` naming the violated policy,
with Retry-After. Every response carries the RateLimit-Policy and RateLimit fields
(core.middleware.RateLimitHeadersMiddleware writes what this leaves on the request).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts.models import User
from accounts.selectors import plan_for_user
from core.api.exceptions import DomainError
from core.ratelimit import Policy, rate_limit_consume, rate_limit_headers

READ_COST = 1
WRITE_COST = 5
# What a view that starts a job declares for that method: {"POST": JOB_START_COST}.
JOB_START_COST = 10


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


def request_cost(request: Request, view: Any) -> int:
    costs: dict[str, int] = getattr(view, "rate_limit_costs", {})
    if request.method in costs:
        return costs[request.method]
    return READ_COST if request.method in SAFE_METHODS else WRITE_COST


class PlanRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user if isinstance(request.user, User) else None
        plan = plan_for_user(user=user)
        subject = f"user:{user.pk}" if user is not None else f"ip:{self.get_ident(request)}"
        policies = (
            Policy(name="minute", quota=plan.requests_per_minute, window=60),
            Policy(name="day", quota=plan.requests_per_day, window=86400),
        )
        decision = rate_limit_consume(
            subject=subject, policies=policies, cost=request_cost(request, view)
        )
        request._request.rate_limit_headers = rate_limit_headers(decision)  # type: ignore[attr-defined]
        if decision.violated is not None:
            policy = decision.violated
            raise RateLimited(
                f"Over the {plan.name} plan's budget of {policy.quota} per {policy.name}. "
                f"Try again in {decision.retry_after} seconds.",
                extra={
                    "retry_after": decision.retry_after,
                    "policy": {"name": policy.name, "quota": policy.quota, "window": policy.window},
                    "plan": plan.name,
                },
            )
        return True
