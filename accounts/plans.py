"""The plan's answers to the layers below that ask for them (registered in AccountsConfig)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from accounts.models import User
from accounts.selectors import plan_for_user


def plan_concurrent_jobs(owner: AbstractBaseUser) -> int | None:
    """How many jobs `owner` may have queued or running at once."""
    return plan_for_user(user=owner if isinstance(owner, User) else None).concurrent_jobs
