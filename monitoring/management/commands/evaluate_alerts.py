"""`manage.py evaluate_alerts`: evaluate the alert rules once, then send due notifications."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monitoring import services


class Command(BaseCommand):
    help = "Evaluate every enabled alert rule once, then deliver the notifications that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-deliver",
            action="store_true",
            help="Only evaluate; leave the notifications to the delivery task.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.alerts_evaluate()
        self.stdout.write(
            f"rules={report.rules} fired={len(report.fired)} resolved={len(report.resolved)} "
            f"pending={report.pending} repeated={report.repeated} escalated={report.escalated}"
        )
        for name in report.unmeasured:
            self.stdout.write(f"not measurable now: {name}")
        for error in report.errors:
            self.stderr.write(f"error: {error}")
        if not options["no_deliver"]:
            delivered = services.notifications_deliver()
            self.stdout.write(
                f"sent={delivered.sent} retrying={delivered.retrying} failed={delivered.failed} "
                f"rate_limited={delivered.rate_limited}"
            )
            for error in delivered.errors:
                self.stderr.write(f"delivery error: {error}")
