"""Liveness and readiness probes (no authentication, JSON)."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring import health
from monitoring.exposition import refusal


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no dependency, so it cannot fail on one."""
    return JsonResponse({"status": "ok", "checked_at": timezone.now().isoformat()})


# Public callers get the checks that write nothing; storage (a write and a delete) runs only
# for the callers /metrics trusts (token, allow-list or loopback).
PUBLIC_READINESS_CHECKS = tuple(name for name in health.READINESS_CHECKS if name != "storage")
_readiness_memo: dict[tuple[str, ...], tuple[float, list[health.CheckResult]]] = {}
_readiness_lock = threading.Lock()


def _readiness_results(names: tuple[str, ...]) -> list[health.CheckResult]:
    """Run `names`, or return their results from the last few seconds in this process.

    Probing every dependency on every request would let anyone who can reach `/readyz` load
    the database, the cache and the storage at will. The lock makes concurrent callers share
    one run.
    """
    with _readiness_lock:
        cached = _readiness_memo.get(names)
        age = time.monotonic() - cached[0] if cached is not None else None
        if (
            cached is not None
            and age is not None
            and age < settings.PHONOGLYPH_READYZ_CACHE_SECONDS
        ):
            return cached[1]
        results = health.run_checks(names)
        _readiness_memo[names] = (time.monotonic(), results)
        return results


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and storage answer; 503 naming the failures otherwise.

    Unauthenticated, so it names what failed but keeps error texts and measurements for the
    staff API: they can carry host names and paths. Results are reused for
    PHONOGLYPH_READYZ_CACHE_SECONDS; the storage check needs a caller /metrics would serve.
    """
    trusted = refusal(request) is None
    names = tuple(health.READINESS_CHECKS) if trusted else PUBLIC_READINESS_CHECKS
    results = _readiness_results(names)
    verdict = health.overall(results)
    body: dict[str, Any] = {
        "status": "ready" if verdict["healthy"] else "not_ready",
        "failing": verdict["failing"],
        "checks": {
            result.service: {"healthy": result.healthy, "latency_ms": round(result.latency_ms, 2)}
            for result in results
        },
    }
    return JsonResponse(body, status=200 if verdict["healthy"] else 503)
