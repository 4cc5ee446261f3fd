from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiKey
from accounts.selectors import user_get_by_email
from accounts.services import api_key_create
from core.api.exceptions import DomainError


class Command(BaseCommand):
    help = "Create an API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="A name to recognise the key by.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=ApiKey.Scope.values,
            help="Grant a scope (api_keys: the key may create and revoke keys). Repeatable.",
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Stop working after this many days."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_get_by_email(email=options["email"])
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be positive.")
        try:
            created = api_key_create(
                user=user,
                name=options["name"],
                scopes=options["scope"],
                expires_at=None if days is None else timezone.now() + timedelta(days=days),
            )
        except DomainError as refused:
            raise CommandError(refused.detail) from refused
        self.stdout.write(created.raw)
