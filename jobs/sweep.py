"""The sweep: end jobs whose worker vanished, publish jobs the broker never accepted, and
release credits held for jobs that are gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from jobs.kinds import JobKind, job_kinds
from jobs.lifecycle import ACTIVE, job_enqueue, job_fail
from jobs.models import JobStatus

logger = logging.getLogger(__name__)

# A job committed this long ago and still unpublished lost its publish to a broker outage.
_REPUBLISH_AFTER_SECONDS = 30


@dataclass(frozen=True)
class SweepReport:
    timed_out: int
    crashed: int
    republished: int
    reservations_released: int


def job_kind_sweep(*, kind: JobKind[Any, Any], now: datetime | None = None) -> SweepReport:
    """Sweep the jobs of `kind`, then the ledger's stale reservations of every kind.

    A job running past its hard time limit plus the heartbeat allowance ends as `timeout`;
    one whose heartbeat stopped earlier ends as `engine_crash`. Each goes through job_fail,
    whose conditional UPDATE loses cleanly to a worker finishing meanwhile.
    """
    now = now or timezone.now()
    stale_seconds = kind.timings().stale_seconds
    stale = now - timedelta(seconds=stale_seconds)
    timed_out = crashed = 0
    manager = kind.model._default_manager
    for job in manager.filter(status=JobStatus.RUNNING).iterator():
        assert job.started_at is not None  # noqa: S101 - claimed jobs always have started_at
        deadline = job.started_at + timedelta(seconds=job.time_limit + stale_seconds)
        if now > deadline:
            code = "timeout"
        elif job.heartbeat_at is None or job.heartbeat_at < stale:
            code = "engine_crash"
        else:
            continue
        if job_fail(kind=kind, job=job, code=code, message=kind.failure_messages[code]):
            logger.warning("%s job %s swept as %s", kind.name, job.pk, code)
            if code == "timeout":
                timed_out += 1
            else:
                crashed += 1
    unpublished = manager.filter(
        status=JobStatus.QUEUED,
        published_at__isnull=True,
        queued_at__lt=now - timedelta(seconds=_REPUBLISH_AFTER_SECONDS),
    )
    republished = sum(job_enqueue(kind=kind, job=job) for job in unpublished.iterator())
    released = 0
    if kind.credits is not None:
        released = kind.credits.ledger.release_stale(is_job_alive=job_ref_is_alive)
    return SweepReport(
        timed_out=timed_out,
        crashed=crashed,
        republished=republished,
        reservations_released=released,
    )


def job_ref_is_alive(job_ref: str) -> bool:
    """Whether the job a ledger reference names may still capture or release its credits.

    A reference of no registered kind is not ours to judge, and counts as alive.
    """
    prefix, _, raw_id = job_ref.partition(":")
    kind = next((kind for kind in job_kinds() if kind.name == prefix), None)
    if kind is None or not raw_id.isdigit():
        return True
    return bool(kind.model._default_manager.filter(pk=int(raw_id), status__in=ACTIVE).exists())
