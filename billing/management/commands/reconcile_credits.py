from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.selectors import ledger_reconcile


class Command(BaseCommand):
    help = (
        "Check every credit account's balances (a system account's with its postings not yet "
        "folded) against its transfers, that debits equal credits, that each grant's remaining "
        "credits match its draw-downs and that no reservation is orphaned. Exits non-zero on "
        "any drift."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger_reconcile()
        self.stdout.write(f"Accounts checked: {report.accounts_checked}")
        self.stdout.write(
            f"Posted debits {report.debits_total} / credits {report.credits_total}; "
            f"pending debits {report.pending_debits_total} / credits "
            f"{report.pending_credits_total}"
        )
        for drift in report.drift_accounts:
            self.stdout.write(
                f"DRIFT account {drift.account_id} {drift.field}: stored {drift.stored}, "
                f"transfers say {drift.expected}"
            )
        for grant_id in report.grant_drift:
            self.stdout.write(f"DRIFT grant {grant_id}: remaining disagrees with its draw-downs")
        for orphan in report.orphaned_reservations:
            self.stdout.write(
                f"ORPHAN reservation {orphan.transfer_id} ({orphan.feature} {orphan.job_ref}, "
                f"{orphan.amount} credits) expired {orphan.expires_at:%Y-%m-%d %H:%M:%S}"
                if orphan.expires_at
                else f"ORPHAN reservation {orphan.transfer_id}"
            )
        if not report.ok:
            raise CommandError(
                f"Ledger drift: {len(report.drift_accounts)} balance(s) off by "
                f"{report.total_drift} credits in total, {len(report.grant_drift)} grant(s), "
                f"{len(report.orphaned_reservations)} orphaned reservation(s)."
            )
        self.stdout.write("OK: no drift.")
