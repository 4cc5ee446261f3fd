"""How many jobs an owner may have queued or running at once, across every kind.

The job layer knows no plan: the package that does (accounts) registers a provider of an
owner's limit from its AppConfig.ready(). Without a provider there is no limit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser

from core.api.exceptions import DomainError

ConcurrentJobLimit = Callable[[AbstractBaseUser], int | None]

_provider: list[ConcurrentJobLimit] = []


class TooManyJobs(DomainError):
    code = "too_many_jobs"
    status = 429
    title = "Too many jobs"


def job_limit_provider_register(provider: ConcurrentJobLimit) -> None:
    """Ask `provider` for an owner's limit (None: unlimited); registering again replaces it."""
    _provider[:] = [provider]


def job_limit_for(owner: AbstractBaseUser) -> int | None:
    return _provider[0](owner) if _provider else None
