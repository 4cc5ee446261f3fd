"""The small API through which domains report.

Domains call these functions and nothing else of `telemetry`: emit a product event (named in
`telemetry.events`), count an outcome, capture a processing error. Each call is cheap and never
raises into the caller.
"""

from __future__ import annotations

import logging
from typing import Literal

from telemetry import analytics

# Re-exported: callers name the event they emit without reaching into the catalogue module.
from telemetry.events import ProductEvent as ProductEvent
from telemetry.metrics import (
    ALERTS_FIRING,
    ANALYSIS_AUDIO_DURATION,
    ANALYSIS_PROCESSING_DURATION,
    CREDITS_MOVED,
    RESULT_CACHE,
    STEM_SEPARATION_PROCESSING_DURATION,
    UPLOAD_REJECTIONS,
)

logger = logging.getLogger(__name__)

CreditMovement = Literal["reserved", "captured", "released", "granted", "refunded", "expired"]

AnalysisOutcome = Literal["succeeded", "failed", "cancelled"]
AlertSeverity = Literal["critical", "warning", "info"]


def emit_event(
    event: ProductEvent,
    *,
    user_id: int | None,
    properties: dict[str, str | int | float | bool | None] | None = None,
) -> None:
    """Record a product analytics event (PostHog when configured).

    Properties are ids, durations, sizes and codes: never file names, emails or secrets.
    """
    analytics.capture(event, user_id=user_id, properties=properties or {})


def observe_upload_rejected(code: str) -> None:
    UPLOAD_REJECTIONS.labels(code=code).inc()


def observe_credits(movement: CreditMovement, amount: int) -> None:
    CREDITS_MOVED.labels(movement=movement).inc(amount)


def observe_analysis(
    duration_seconds: float, audio_seconds: float | None, outcome: AnalysisOutcome
) -> None:
    """Record one finished analysis: processing wall time and, when known, the audio length."""
    ANALYSIS_PROCESSING_DURATION.labels(outcome=outcome).observe(duration_seconds)
    if audio_seconds is not None:
        ANALYSIS_AUDIO_DURATION.labels(outcome=outcome).observe(audio_seconds)


def observe_stem_separation(
    duration_seconds: float, audio_seconds: float | None, outcome: AnalysisOutcome
) -> None:
    """Record one finished stem separation's processing wall time."""
    STEM_SEPARATION_PROCESSING_DURATION.labels(outcome=outcome).observe(duration_seconds)


def observe_result_cache(part: str, *, hit: bool) -> None:
    """Count one read of a cached result part, found in the cache or not."""
    RESULT_CACHE.labels(part=part, outcome="hit" if hit else "miss").inc()


def observe_alert_firing(severity: AlertSeverity, count: int) -> None:
    """Set how many alerts of `severity` are firing now."""
    ALERTS_FIRING.labels(severity=severity).set(count)


def capture_processing_error(
    error: BaseException,
    *,
    operation: str,
    user_id: int | None = None,
    media_id: int | str | None = None,
    job_id: int | str | None = None,
    metadata: dict[str, object] | None = None,
) -> None:
    """Send a processing error to Sentry (when configured) tagged with its operation."""
    from telemetry import errors

    errors.capture_processing_error(
        error,
        operation=operation,
        user_id=user_id,
        media_id=media_id,
        job_id=job_id,
        metadata=metadata,
    )
