"""Liveness and readiness probes (no authentication, JSON)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from monitoring import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no dependency, so it cannot fail on one."""
    return JsonResponse({"status": "ok", "checked_at": timezone.now().isoformat()})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and storage answer; 503 naming the failures otherwise.

    Unauthenticated, so it names what failed but keeps error texts and measurements for the
    staff API: they can carry host names and paths.
    """
    results = health.run_checks(health.READINESS_CHECKS)
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
