"""The catalogue of product events: each event's name and the properties it may carry.

One list shared by the callers that name an event (`telemetry.reporting.emit_event`) and the
client that sends it (`telemetry.analytics`). Properties are ids, durations, sizes and codes:
never file names, emails or secrets, so a property the catalogue does not declare is dropped
before it leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

ProductEvent = Literal[
    "user_signed_up",
    "user_logged_in",
    "api_key_created",
    "media_uploaded",
    "media_rejected",
    "media_deleted",
    "analysis_started",
    "analysis_completed",
    "analysis_failed",
    "analysis_cancelled",
    "stem_separation_started",
    "stem_separation_completed",
    "stem_separation_failed",
    "stem_separation_cancelled",
    "credits_granted",
    "credits_reserved",
    "credits_captured",
    "credits_released",
    "api_call_success",
    "api_call_error",
]

_API_CALL = frozenset({"route", "method", "status", "duration_ms", "error_code"})
_MEDIA = frozenset({"media_id", "size_bytes", "duration_seconds", "format", "sample_rate"})
_JOB = frozenset({"job_id", "media_id", "duration_seconds", "kind", "priority", "credits"})
_JOB_DONE = _JOB | {"processing_seconds", "reused", "code"}
_CREDITS = frozenset({"amount", "feature", "balance", "job_id", "reason"})

EVENT_PROPERTIES: Final[Mapping[ProductEvent, frozenset[str]]] = {
    "user_signed_up": frozenset({"method"}),
    "user_logged_in": frozenset({"method"}),
    "api_key_created": frozenset({"api_key_id"}),
    "media_uploaded": _MEDIA,
    "media_rejected": frozenset({"code", "size_bytes", "format"}),
    "media_deleted": frozenset({"media_id"}),
    "analysis_started": _JOB,
    "analysis_completed": _JOB_DONE,
    "analysis_failed": _JOB_DONE,
    "analysis_cancelled": _JOB,
    "stem_separation_started": _JOB,
    "stem_separation_completed": _JOB_DONE,
    "stem_separation_failed": _JOB_DONE,
    "stem_separation_cancelled": _JOB,
    "credits_granted": _CREDITS,
    "credits_reserved": _CREDITS,
    "credits_captured": _CREDITS,
    "credits_released": _CREDITS,
    "api_call_success": _API_CALL,
    "api_call_error": _API_CALL,
}
