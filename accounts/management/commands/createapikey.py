from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import user_get_by_email
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="A name to recognise the key by.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_get_by_email(email=options["email"])
        if user is None:
            raise CommandError(f"No user with email {options['email']}.")
        created = api_key_create(user=user, name=options["name"])
        self.stdout.write(created.raw)
