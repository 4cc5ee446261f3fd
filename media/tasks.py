"""Celery entry points of media: fetch by id, call one service."""

from __future__ import annotations

from celery import shared_task

from media.errors import StorageUnavailable
from media.preview import media_preview_make


@shared_task(
    name="media.tasks.media_preview_make",
    acks_late=True,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=5,
    max_retries=5,
)
def media_preview_make_task(media_id: int) -> None:
    """Make the browser-playable preview of one upload."""
    media_preview_make(media_id=media_id)
