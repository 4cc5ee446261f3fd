from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_get_by_email
from billing.services import credits_grant


class Command(BaseCommand):
    help = "Grant credits to a user (they do not expire). The reason is kept on the transfer."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", required=True, help="Why the credits are granted.")

    def handle(self, *args: Any, **options: Any) -> None:
        reason = str(options["reason"]).strip()
        if not reason:
            raise CommandError("--reason must not be empty.")
        amount = int(options["amount"])
        if amount <= 0:
            raise CommandError("The amount must be a positive number of credits.")
        user = user_get_by_email(email=options["email"])
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        transfer = credits_grant(user=user, amount=amount, reason=reason)
        self.stdout.write(f"Granted {amount} credits to {user.email} (transfer {transfer.pk}).")
