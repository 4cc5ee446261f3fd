from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Webhooks sit above the job layer and billing: both offer a listener registry and
        # know no consumer; webhooks register into them here (docs/architecture.md).
        from billing.notices import credits_low_listener_register
        from jobs.outcomes import job_outcome_listener_register
        from webhooks.services import webhook_event_from_credits_low, webhook_event_from_job

        job_outcome_listener_register("webhooks", webhook_event_from_job)
        credits_low_listener_register("webhooks", webhook_event_from_credits_low)
