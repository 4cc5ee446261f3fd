from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.roles import STAFF_GROUP_NAME, user_role_grant
from accounts.selectors import user_get_by_email
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user. Without --password-stdin the user sets a password through a reset."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("email")
        role = parser.add_mutually_exclusive_group()
        role.add_argument(
            "--staff",
            action="store_true",
            help=f"Admin access in the {STAFF_GROUP_NAME} group: view everything, act on alerts.",
        )
        role.add_argument(
            "--superuser", action="store_true", help="Admin access with every permission."
        )
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
        with transaction.atomic():
            user = user_create(email=email, password=password or None)
            user_role_grant(user=user, staff=options["staff"], superuser=options["superuser"])
        role = "superuser" if user.is_superuser else f"staff={user.is_staff}"
        self.stdout.write(f"Created user {user.email} (id {user.pk}, {role})")
