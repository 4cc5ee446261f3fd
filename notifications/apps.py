from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Notifications sit above the job layer, which offers a listener registry and knows no
        # consumer; they register into it here (docs/architecture.md).
        from jobs.outcomes import job_outcome_listener_register
        from notifications.services import notification_from_job

        job_outcome_listener_register("notifications", notification_from_job)
