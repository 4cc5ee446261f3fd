"""Periodic ledger work, scheduled by CELERY_BEAT_SCHEDULE in settings."""

from __future__ import annotations

import logging

from celery import shared_task

from billing import reservations, selectors, services

logger = logging.getLogger(__name__)


@shared_task(name="billing.tasks.credits_release_stale")
def credits_release_stale() -> int:
    """Release reservations past their expiry, so a crashed worker never strands credits."""
    return reservations.credits_release_stale()


@shared_task(name="billing.tasks.credits_expire")
def credits_expire() -> int:
    """Expire grants past their expiry date; return the credits expired."""
    return services.credits_expire().credits_expired


@shared_task(name="billing.tasks.credits_grant_monthly")
def credits_grant_monthly() -> int:
    """Grant this month's free credits to users who have not had them; return how many."""
    return services.credits_grant_monthly_all()


@shared_task(name="billing.tasks.system_postings_fold")
def system_postings_fold() -> int:
    """Fold the system accounts' appended postings into their balances; return how many."""
    return services.system_postings_fold()


@shared_task(name="billing.tasks.ledger_reconcile")
def ledger_reconcile() -> bool:
    """Check the ledger; log drift at ERROR so alerting sees it. Return whether it is clean."""
    report = selectors.ledger_reconcile()
    if not report.ok:
        logger.error(
            "credits ledger drift",
            extra={
                "drift_accounts": len(report.drift_accounts),
                "total_drift": report.total_drift,
                "orphaned_reservations": len(report.orphaned_reservations),
            },
        )
    return report.ok
