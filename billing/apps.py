from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A confirmed sign-up gets its credit account, and with it the sign-up bonus, at once.
        from accounts.confirmation import user_confirmed_listener_register
        from billing.services import credit_account_open

        user_confirmed_listener_register(
            "billing.credit-account-open", lambda user: credit_account_open(user=user)
        )
