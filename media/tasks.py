"""Celery entry points of media: fetch by id, call one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from media.errors import StorageUnavailable
from media.preview import media_preview_give_up, media_previews_requeue_lost
from media.preview import media_preview_make as make_preview

# A storage outage is worth a few tries spread over some minutes; past them the upload stays
# without a preview (its page says so) until an analysis of it makes one.
PREVIEW_MAX_RETRIES = 5
PREVIEW_RETRY_BACKOFF_SECONDS = 30


@shared_task(
    bind=True,
    name="media.tasks.media_preview_make",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=PREVIEW_MAX_RETRIES,
)
def media_preview_make(self: Task[Any, Any], media_id: int) -> None:
    """Make the upload's playable preview; a second delivery finds it made and does nothing."""
    try:
        make_preview(media_id=media_id)
    except StorageUnavailable as failure:
        if self.request.retries >= PREVIEW_MAX_RETRIES:
            media_preview_give_up(media_id=media_id)
            return
        raise self.retry(
            exc=failure, countdown=PREVIEW_RETRY_BACKOFF_SECONDS * 2**self.request.retries
        ) from failure


@shared_task(name="media.tasks.media_previews_sweep", ignore_result=True)
def media_previews_sweep() -> dict[str, int]:
    """Queue again the previews whose task was lost; give up on those a day old."""
    requeued, given_up = media_previews_requeue_lost()
    return {"requeued": requeued, "given_up": given_up}
