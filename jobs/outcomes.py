"""Who hears that a job ended: a registry of outcome listeners, called once the end committed.

The job layer knows no consumer. A package that must act on the end of any job (the webhooks
that tell integrators, the notifications that tell the owner) registers a listener from its
AppConfig.ready(); the lifecycle calls every listener with a JobOutcome after the transaction
that ended the job commits, so a listener never sees a rolled-back end. A listener's failure
is logged and never undoes or blocks the job's end, nor another listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import transaction

from jobs.kinds import Outcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    """How one job ended, as its listeners see it."""

    kind: str
    job_id: int
    # What the job's owner knows it by; `job_id` is the internal key.
    public_id: UUID
    owner_id: int
    outcome: Outcome
    finished_at: datetime
    # Where its owner reads the job over the API (e.g. /api/v1/analyses/<public id>/), when the
    # kind says.
    resource_path: str | None
    error_code: str | None = None
    reused: bool = False
    # Where its owner follows the job on the site, when the kind says.
    page_path: str | None = None
    # What a person calls the job (e.g. "analysis of song.mp3"), when the kind says.
    description: str | None = None
    # Why it failed, in words its owner can read.
    error_message: str | None = None


JobOutcomeListener = Callable[[JobOutcome], None]

_LISTENERS: dict[str, JobOutcomeListener] = {}


def job_outcome_listener_register(name: str, listener: JobOutcomeListener) -> None:
    """Call `listener` with every job outcome from now on; the same name again replaces it."""
    _LISTENERS[name] = listener


def job_outcome_listener_unregister(name: str) -> None:
    _LISTENERS.pop(name, None)


def job_outcome_announce(outcome: JobOutcome) -> None:
    """Tell every listener about `outcome` once the current transaction commits (now if none)."""

    def announce() -> None:
        for name, listener in list(_LISTENERS.items()):
            try:
                listener(outcome)
            except Exception:
                # A consumer's fault must not undo or hide the job's end, nor starve the others.
                logger.exception("Job outcome listener %r failed on %s", name, outcome)

    transaction.on_commit(announce)
