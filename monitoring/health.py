"""Health checks: each probes one dependency or pipeline and reports what it measured.

Every check returns a `CheckResult` and never raises: a failure is a result with `healthy`
False and an `error` naming what went wrong. Checks that touch the network run under a hard
time limit (PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS), because a dependency that hangs must
show up as unhealthy rather than hang the probe, the readiness endpoint or the alert loop.
"""

from __future__ import annotations

import contextlib
import queue as queue_module
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import connection
from django.utils import timezone

from monitoring import selectors

T = TypeVar("T")

# kombu's Redis transport keeps one list per priority step; a queue's depth is their sum.
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)
WORKER_PING_TIMEOUT_SECONDS = 1.0
BROKER_CONNECT_TIMEOUT_SECONDS = 1.0
DEFAULT_PIPELINE_WINDOW = timedelta(hours=1)


class CheckTimeout(Exception):
    """A probe did not answer within its time limit."""


@dataclass(frozen=True)
class CheckResult:
    service: str
    healthy: bool
    metrics: dict[str, Any]
    checked_at: datetime
    latency_ms: float
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "healthy": self.healthy,
            "metrics": self.metrics,
            "checked_at": self.checked_at.isoformat(),
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
        }


@dataclass
class _Probe:
    service: str
    started: float = field(default_factory=time.perf_counter)
    checked_at: datetime = field(default_factory=timezone.now)

    def result(self, *, healthy: bool, metrics: dict[str, Any], error: str = "") -> CheckResult:
        return CheckResult(
            service=self.service,
            healthy=healthy,
            metrics=metrics,
            checked_at=self.checked_at,
            latency_ms=(time.perf_counter() - self.started) * 1000,
            error=error,
        )


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


def run_bounded(function: Callable[[], T], *, timeout: float) -> T:
    """Run `function` in a daemon thread and give up after `timeout` seconds.

    Raises CheckTimeout when it does not return in time (the thread is abandoned, not killed:
    Python cannot interrupt a blocked socket call) and re-raises whatever it raised.
    """
    outcome: queue_module.Queue[tuple[bool, Any]] = queue_module.Queue(maxsize=1)

    def target() -> None:
        try:
            outcome.put((True, function()))
        except BaseException as error:
            outcome.put((False, error))

    threading.Thread(target=target, name="health-probe", daemon=True).start()
    try:
        ok, value = outcome.get(timeout=timeout)
    except queue_module.Empty:
        raise CheckTimeout(f"no answer within {timeout:g} s") from None
    if ok:
        return value  # type: ignore[no-any-return]  # the queue holds function's own result
    raise value


def _timeout() -> float:
    return float(settings.PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS)


def check_database() -> CheckResult:
    probe = _Probe("database")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
    except Exception as error:
        return probe.result(
            healthy=False, metrics={"vendor": connection.vendor}, error=_describe(error)
        )
    healthy = row is not None and row[0] == 1
    return probe.result(
        healthy=healthy,
        metrics={"vendor": connection.vendor},
        error="" if healthy else "SELECT 1 returned an unexpected row",
    )


def check_cache() -> CheckResult:
    """PING Redis when it is the cache, then round-trip a key through the cache."""
    probe = _Probe("cache")
    backend = type(cache).__name__
    key = f"monitoring:health:{uuid.uuid4().hex}"

    def round_trip() -> bool:
        if settings.REDIS_URL:
            import redis

            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=_timeout(), socket_timeout=_timeout()
            )
            try:
                client.ping()
            finally:
                client.close()
        cache.set(key, "ok", timeout=30)
        value = cache.get(key)
        cache.delete(key)
        return bool(value == "ok")

    try:
        ok = run_bounded(round_trip, timeout=_timeout())
    except Exception as error:
        return probe.result(healthy=False, metrics={"backend": backend}, error=_describe(error))
    return probe.result(
        healthy=ok,
        metrics={"backend": backend},
        error="" if ok else "a key written to the cache did not read back",
    )


def check_storage() -> CheckResult:
    """Write, read back and delete a small object in the default storage (disk or S3)."""
    probe = _Probe("storage")
    backend = type(storages["default"]).__name__
    payload = uuid.uuid4().hex.encode()

    def round_trip() -> bool:
        name = default_storage.save(
            f"monitoring-health/{uuid.uuid4().hex}.txt", ContentFile(payload)
        )
        try:
            with default_storage.open(name, "rb") as handle:
                return bool(handle.read() == payload)
        finally:
            default_storage.delete(name)

    try:
        ok = run_bounded(round_trip, timeout=_timeout())
    except Exception as error:
        return probe.result(healthy=False, metrics={"backend": backend}, error=_describe(error))
    return probe.result(
        healthy=ok,
        metrics={"backend": backend},
        error="" if ok else "the object read back differs from the one written",
    )


def monitored_queues() -> list[str]:
    """The Celery queues to measure: the setting, else the default queue plus routed ones."""
    configured = list(settings.PHONOGLYPH_MONITORED_QUEUES)
    if configured:
        return configured
    names = {str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "") or "celery")}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                names.add(str(route["queue"]))
    for declared in getattr(settings, "CELERY_TASK_QUEUES", None) or ():
        name = getattr(declared, "name", None)
        if name:
            names.add(str(name))
    return sorted(names)


def _broker_url() -> str:
    return str(settings.CELERY_BROKER_URL)


def _broker_scheme(url: str) -> str:
    return urlsplit(url).scheme.split("+")[0] or url.rstrip(":/")


def _redis_depths(url: str, queues: Iterable[str]) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=_timeout(),
    )
    try:
        names = list(queues)
        pipe = client.pipeline(transaction=False)
        for name in names:
            for step in REDIS_PRIORITY_STEPS:
                pipe.llen(name if step == 0 else f"{name}{REDIS_PRIORITY_SEPARATOR}{step}")
        lengths = pipe.execute()
    finally:
        client.close()
    per_queue = len(REDIS_PRIORITY_STEPS)
    return {
        name: int(sum(lengths[index * per_queue : (index + 1) * per_queue]))
        for index, name in enumerate(names)
    }


def _filesystem_depths(queues: Iterable[str]) -> dict[str, int]:
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
    folder = Path(str(options.get("data_folder_in", ".")))
    # kombu names each message file "<ms>_<uuid>.<queue>.msg".
    files = [entry.name for entry in folder.iterdir()] if folder.is_dir() else []
    return {name: sum(1 for entry in files if entry.endswith(f".{name}.msg")) for name in queues}


def _amqp_depths(url: str, queues: Iterable[str]) -> dict[str, int]:
    from kombu import Connection
    from kombu.exceptions import OperationalError

    depths: dict[str, int] = {}
    with Connection(url, connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1)
        for name in queues:
            # kombu types `channel()` as its abstract StdChannel; the amqp channel has these.
            channel: Any = conn.channel()
            try:
                declared = channel.queue_declare(queue=name, passive=True)
                depths[name] = int(declared.message_count)
            except OperationalError:
                raise
            except Exception as error:
                # A queue nobody has declared yet holds no messages; RabbitMQ answers 404.
                if getattr(error, "code", None) != 404:
                    raise
                depths[name] = 0
            finally:
                # A 404 has already closed the channel on the broker's side.
                with contextlib.suppress(Exception):
                    channel.close()
    return depths


def queue_depths() -> dict[str, int]:
    """Messages waiting per monitored queue on the configured broker.

    Raises whatever the broker client raises, and ValueError for a broker it cannot measure.
    """
    url = _broker_url()
    scheme = _broker_scheme(url)
    queues = monitored_queues()
    if scheme in ("redis", "rediss"):
        return _redis_depths(url, queues)
    if scheme == "filesystem":
        return _filesystem_depths(queues)
    if scheme in ("amqp", "amqps", "pyamqp"):
        return _amqp_depths(url, queues)
    raise ValueError(f"queue depth is not measurable on a {scheme!r} broker")


def check_queues() -> CheckResult:
    probe = _Probe("queues")
    broker = _broker_scheme(_broker_url())
    try:
        depths = run_bounded(queue_depths, timeout=_timeout())
    except Exception as error:
        return probe.result(healthy=False, metrics={"broker": broker}, error=_describe(error))
    return probe.result(
        healthy=True,
        metrics={"broker": broker, "queues": depths, "total": sum(depths.values())},
    )


def _broker_reachable(url: str) -> None:
    """Open and close a TCP connection to a network broker; raise OSError if refused."""
    parts = urlsplit(url)
    scheme = _broker_scheme(url)
    default_ports = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "pyamqp": 5672}
    if scheme not in default_ports:
        return
    host = parts.hostname or "localhost"
    port = parts.port or default_ports[scheme]
    with socket.create_connection((host, port), timeout=BROKER_CONNECT_TIMEOUT_SECONDS):
        pass


def ping_workers() -> list[str]:
    """Names of the Celery workers that answered a broadcast ping within one second.

    A throwaway Celery app carries the ping: the project app publishes control messages
    through a producer pool bound, once and for good, to the broker it first connected to,
    while this probe must follow CELERY_BROKER_URL as it is now.
    """
    from celery import Celery

    url = _broker_url()
    # Celery's ping retries its broker connection for a long time when the broker is down;
    # a plain TCP connect first turns that into an immediate, clear failure.
    _broker_reachable(url)
    probe = Celery("phonoglyph-health-probe", broker=url, set_as_current=False)
    probe.conf.broker_transport_options = dict(
        getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    )
    probe.conf.broker_connection_timeout = BROKER_CONNECT_TIMEOUT_SECONDS
    probe.conf.broker_connection_retry = False
    probe.conf.control_exchange = getattr(settings, "CELERY_CONTROL_EXCHANGE", "celery")
    try:
        replies = probe.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS)
    finally:
        probe.close()
    return sorted(name for reply in replies or [] for name in reply)


def check_workers() -> CheckResult:
    probe = _Probe("workers")
    try:
        names = run_bounded(ping_workers, timeout=WORKER_PING_TIMEOUT_SECONDS + _timeout())
    except Exception as error:
        return probe.result(
            healthy=False, metrics={"alive": 0, "workers": []}, error=_describe(error)
        )
    return probe.result(
        healthy=bool(names),
        metrics={"alive": len(names), "workers": names},
        error="" if names else "no worker answered the ping",
    )


def check_analysis(window: timedelta = DEFAULT_PIPELINE_WINDOW) -> CheckResult:
    """The analysis pipeline over `window`: volume, rates, percentiles, backlog and stuck jobs."""
    probe = _Probe("analysis")
    now = probe.checked_at
    try:
        stats = selectors.processing_stats(service="analysis", since=now - window, until=now)
        backlog = selectors.analysis_backlog(now=now)
    except Exception as error:
        return probe.result(healthy=False, metrics={}, error=_describe(error))
    metrics: dict[str, Any] = {
        "window_seconds": int(window.total_seconds()),
        **stats.as_dict(),
        "oldest_queued_age_seconds": backlog.oldest_queued_age_seconds,
        "queued": backlog.queued,
        "running": backlog.running,
        "stuck_running": backlog.stuck_running,
    }
    problems = []
    if backlog.stuck_running:
        problems.append(f"{backlog.stuck_running} job(s) running past their time limit")
    return probe.result(healthy=not problems, metrics=metrics, error="; ".join(problems))


def check_stem_separation(window: timedelta = DEFAULT_PIPELINE_WINDOW) -> CheckResult:
    probe = _Probe("stem_separation")
    now = probe.checked_at
    try:
        stats = selectors.processing_stats(service="stem_separation", since=now - window, until=now)
        backlog = selectors.stem_separation_backlog(now=now)
    except Exception as error:
        return probe.result(healthy=False, metrics={}, error=_describe(error))
    metrics: dict[str, Any] = {
        "window_seconds": int(window.total_seconds()),
        **stats.as_dict(),
        "oldest_queued_age_seconds": backlog.oldest_queued_age_seconds,
        "queued": backlog.queued,
        "running": backlog.running,
        "stuck_running": backlog.stuck_running,
    }
    problems = []
    if backlog.stuck_running:
        problems.append(f"{backlog.stuck_running} separation(s) running past their time limit")
    return probe.result(healthy=not problems, metrics=metrics, error="; ".join(problems))


def check_ledger() -> CheckResult:
    """Reconcile the credits ledger; any drift or orphaned reservation is unhealthy."""
    probe = _Probe("ledger")
    try:
        report = selectors.ledger_reconciliation()
    except Exception as error:
        return probe.result(healthy=False, metrics={}, error=_describe(error))
    healthy = report.ok
    return probe.result(
        healthy=healthy,
        metrics={
            "total_drift": report.total_drift,
            "accounts_checked": report.accounts_checked,
            "drift_accounts": sorted({drift.account_id for drift in report.drift_accounts}),
            "orphaned_reservations": len(report.orphaned_reservations),
        },
        error="" if healthy else "the ledger does not reconcile",
    )


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
    "queues": check_queues,
    "workers": check_workers,
    "analysis": check_analysis,
    "stem_separation": check_stem_separation,
    "ledger": check_ledger,
}
READINESS_CHECKS = ("database", "cache", "storage")


def run_checks(names: Iterable[str] = CHECKS) -> list[CheckResult]:
    return [CHECKS[name]() for name in names]


def overall(results: Iterable[CheckResult]) -> dict[str, Any]:
    """Healthy when every check is; `failing` names the services that are not."""
    failing = [result.service for result in results if not result.healthy]
    return {"healthy": not failing, "status": "degraded" if failing else "ok", "failing": failing}


def pipeline_health() -> dict[str, Any]:
    """Every check, run now, plus an `overall` verdict."""
    results = run_checks()
    return {
        "overall": overall(results),
        "checks": {result.service: result.as_dict() for result in results},
    }
