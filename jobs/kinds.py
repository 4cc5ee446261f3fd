"""The registry of job kinds: named, versioned data, each with its own queue and task.

A kind says what is specific to one sort of job: its model, the work and where its result
goes, how it is priced, which of its failures are transient, and how it is reported. The
lifecycle (jobs.lifecycle, jobs.runner, jobs.sweep) does the rest, the same for every kind.
A domain registers its kinds once, from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from celery import Task
from django.db import InterfaceError, OperationalError

from jobs.credits import CreditLedger, Usage
from jobs.models import Job
from telemetry.reporting import ProductEvent

J = TypeVar("J", bound=Job)
R = TypeVar("R")

ProgressCallback = Callable[[str, int], None]
Outcome = Literal["succeeded", "failed", "cancelled"]

# Failures of what every job depends on rather than of its input: worth retrying with backoff.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)
# The failure codes the lifecycle itself gives; each kind words them for its users.
FAILURE_CODES = ("timeout", "engine_crash", "service_unavailable")


@dataclass(frozen=True)
class JobTimings:
    """The clock of a kind's jobs, read from settings at each use so they can be tuned live."""

    heartbeat_seconds: float
    # A running job whose heartbeat is older than this has lost its worker.
    stale_seconds: int
    reservation_hours: int
    retry_backoff_seconds: int
    retry_backoff_max_seconds: int


@dataclass(frozen=True)
class JobSubject:
    """What a job works on, as its events, metrics and error reports name it."""

    media_id: int | None
    audio_seconds: float | None


@dataclass(frozen=True)
class JobCredits(Generic[J]):
    """How a kind's jobs are paid for: the ledger's feature, the price and the usage recorded."""

    feature: str
    ledger: CreditLedger
    price: Callable[[J], int]
    usage: Callable[[J], Usage]


@dataclass(frozen=True)
class JobEvents:
    started: ProductEvent
    completed: ProductEvent
    failed: ProductEvent
    cancelled: ProductEvent


@dataclass(frozen=True)
class JobKind(Generic[J, R]):
    """One sort of background job.

    `run(job, progress)` does the work (in a worker) and returns its outcome; it reports
    progress through `progress(stage, percent)`, which raises JobNoLongerRunning once the job
    was cancelled or swept, and raises JobRefused for input it cannot handle. `store(job,
    outcome)` persists the outcome and returns the job's fields to write on success.
    `reusable(job)` returns the fields of an identical finished job's result the job may take
    instead of running (None: run it); it must only offer results of the job's own owner.
    `version` names the version of the work (e.g. the engine's) its results depend on. `task`
    is the Celery task that runs a job by id, published on `queue`.
    """

    name: str
    version: str
    model: type[J]
    queue: str
    task: Task[Any, Any]
    credits: JobCredits[J] | None
    run: Callable[[J, ProgressCallback], R]
    store: Callable[[J, R], dict[str, Any]]
    reusable: Callable[[J], dict[str, Any] | None]
    timings: Callable[[], JobTimings]
    subject: Callable[[J], JobSubject]
    events: JobEvents
    observe: Callable[[float, float | None, Outcome], None]
    failure_messages: Mapping[str, str]
    # Related rows the work reads, fetched with the claimed job in one query.
    claim_related: tuple[str, ...] = ()
    # Transient failures of what this kind depends on, beyond TRANSIENT_ERRORS.
    extra_transient_errors: tuple[type[Exception], ...] = ()
    # Where the owner reads a job over the API, for the listeners of job outcomes.
    resource_path: Callable[[J], str] | None = None
    # Where the owner follows a job on the site (its page), for the listeners of job outcomes.
    page_path: Callable[[J], str] | None = None
    # What a person calls a job, lower case, e.g. "analysis of song.mp3", for the same listeners.
    describe: Callable[[J], str] | None = None

    @property
    def transient_errors(self) -> tuple[type[Exception], ...]:
        return TRANSIENT_ERRORS + self.extra_transient_errors


_KINDS: dict[str, JobKind[Any, Any]] = {}


def job_kind_register(kind: JobKind[Any, Any]) -> None:
    """Make `kind` known to the sweep and the tasks; registering the same name again replaces it.

    Raises ValueError when the kind and its model disagree on the name, or when a failure
    code the lifecycle gives has no message.
    """
    if kind.name != kind.model.KIND:
        raise ValueError(f"{kind.model.__name__}.KIND is {kind.model.KIND!r}, not {kind.name!r}.")
    missing = [code for code in FAILURE_CODES if code not in kind.failure_messages]
    if missing:
        raise ValueError(f"Job kind {kind.name!r} has no message for {', '.join(missing)}.")
    _KINDS[kind.name] = kind


def job_kind_get(name: str) -> JobKind[Any, Any]:
    """The registered kind `name`; raises LookupError for an unknown one."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No job kind {name!r} is registered.") from None


def job_kinds() -> tuple[JobKind[Any, Any], ...]:
    return tuple(_KINDS.values())
