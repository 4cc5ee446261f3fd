"""Processing errors sent to Sentry with the operation that failed and its audio context."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import sentry_sdk

logger = logging.getLogger(__name__)

OPERATION_TAG = "operation"
AUDIO_CONTEXT = "audio_processing"


def capture_processing_error(
    error: BaseException,
    *,
    operation: str,
    user_id: int | None = None,
    media_id: int | str | None = None,
    job_id: int | str | None = None,
    metadata: Mapping[str, object] | None = None,
) -> str | None:
    """Send `error` to Sentry tagged `operation=<operation>` with an `audio_processing` context.

    Returns the Sentry event id, or None when Sentry is off or the event was dropped. Never
    raises: a failure to report must not replace the error being reported.
    """
    # Logged below ERROR so the logging integration records a breadcrumb, not a second event.
    logger.warning(
        "processing error in %s: %s",
        operation,
        type(error).__name__,
        extra={"operation": operation, "media_id": media_id},
    )
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag(OPERATION_TAG, operation)
            if job_id is not None:
                scope.set_tag("job_id", str(job_id))
            if user_id is not None:
                scope.set_user({"id": str(user_id)})
            context: dict[str, object] = {
                "operation": operation,
                "media_id": media_id,
                "job_id": job_id,
                "user_id": user_id,
            }
            if metadata:
                context["metadata"] = dict(metadata)
            scope.set_context(AUDIO_CONTEXT, context)
            return scope.capture_exception(error)
    except Exception:
        logger.exception("could not report a processing error to Sentry")
        return None
