from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.selectors import user_get_by_email
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user. Without --password-stdin the user sets a password through a reset."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--staff", action="store_true", help="Give access to the admin.")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"Not a valid email address: {email!r}") from error
        if user_get_by_email(email=email) is not None:
            raise CommandError(f"A user with email {email} already exists.")
        password = sys.stdin.readline().rstrip("\n") if options["password_stdin"] else None
        user = user_create(email=email, password=password or None, is_staff=options["staff"])
        self.stdout.write(f"Created user {user.email} (id {user.pk}, staff={user.is_staff})")
