from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The job layer asks for an owner's concurrent-job limit; the plan says it.
        from accounts.cache import accounts_cache_connect
        from accounts.plans import plan_concurrent_jobs
        from jobs.admission import job_limit_provider_register

        job_limit_provider_register(plan_concurrent_jobs)
        # Keys and plans are read from the cache on every API request; changes evict them.
        accounts_cache_connect()
