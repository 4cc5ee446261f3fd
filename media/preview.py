"""The browser-playable preview of an upload.

Media owns the preview: it is a copy of the user's audio, stored privately beside it and
deleted with it. Every accepted upload queues its making (`media.tasks.media_preview_make`,
on the default queue); a worker that already holds a local copy of the audio (the analysis
job's run) makes it too when it is still missing. Until it exists the pages say it is being
prepared and offer the original upload. A preview still pending long after its task's last
retry would have ended (the message lost with a broker that keeps nothing on disk, say) is
queued again by a periodic sweep (`media_previews_requeue_lost`), for a day at most.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from engine.errors import EngineError
from engine.preview import PREVIEW_EXTENSION, Preview, transcode_preview
from media.errors import MediaNotAvailable
from media.models import MediaFile
from media.selectors import LocalAudio, media_open_local_copy
from media.storage import storage_delete, storage_preview_key_new, storage_save

logger = logging.getLogger(__name__)

# Transcoding runs far faster than real time; the deadline only stops a stuck child.
_TIMEOUT_BASE_SECONDS = 60.0
_TIMEOUT_PER_AUDIO_SECOND = 0.5
# Past the task's retries (30 s doubling five times: about 16 minutes) a pending preview's task
# is lost, not slow; it is queued again at this interval, and given up on after a day.
PREVIEW_LOST_AFTER = timedelta(minutes=30)
PREVIEW_REQUEUE_UNTIL = timedelta(days=1)
# What publishing raises while the broker is unreachable.
_PUBLISH_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, ConnectionError, OSError)


def media_preview_request(*, media_id: int) -> None:
    """Queue the making of media `media_id`'s preview once the current transaction commits.

    A broker that refuses the task leaves the preview failed (logged): the upload itself
    stands, the page says so, and a later analysis of the upload still makes the preview.
    """

    def publish() -> None:
        from media.tasks import media_preview_make as make_task

        try:
            make_task.delay(media_id)
        except _PUBLISH_ERRORS:
            logger.warning("the preview of media %s could not be queued", media_id)
            media_preview_give_up(media_id=media_id)

    transaction.on_commit(publish)


def media_previews_requeue_lost(*, now: datetime | None = None) -> tuple[int, int]:
    """Queue again the previews pending for longer than PREVIEW_LOST_AFTER; give up on those
    uploaded more than PREVIEW_REQUEUE_UNTIL ago. Returns (queued again, given up)."""
    now = now or timezone.now()
    lost = MediaFile.objects.filter(
        status=MediaFile.Status.READY,
        preview_status=MediaFile.PreviewStatus.PENDING,
        preview_key="",
        updated_at__lt=now - PREVIEW_LOST_AFTER,
    )
    given_up = lost.filter(created_at__lt=now - PREVIEW_REQUEUE_UNTIL).update(
        preview_status=MediaFile.PreviewStatus.FAILED, updated_at=now
    )
    requeued = 0
    for media_id in lost.values_list("pk", flat=True):
        # Touched first, so the next sweep waits PREVIEW_LOST_AFTER again for this request.
        if MediaFile.objects.filter(pk=media_id, preview_key="").update(updated_at=now):
            logger.warning("the preview of media %s was still pending; queued again", media_id)
            media_preview_request(media_id=media_id)
            requeued += 1
    return requeued, given_up


def media_preview_give_up(*, media_id: int) -> None:
    """Record that media `media_id` gets no preview for now (retries exhausted, broker down)."""
    # Only a preview still missing: another worker may have stored one meanwhile.
    MediaFile.objects.filter(pk=media_id, preview_key="").update(
        preview_status=MediaFile.PreviewStatus.FAILED
    )


def media_preview_make(*, media_id: int, local: LocalAudio | None = None) -> MediaFile | None:
    """Make and store the preview of media `media_id`, once; return the media.

    `local` is a local copy of its audio the caller already holds (media_open_local_copy);
    without it one is opened here.

    Returns None when the media is gone or no longer ready; the media as it is when it already
    has its preview. Audio ffmpeg cannot transcode leaves the media without a preview, its
    `preview_status` failed (logged; the page then offers the original upload).
    Raises StorageUnavailable (worth a retry) when storage fails.
    """
    media = MediaFile.objects.filter(pk=media_id, status=MediaFile.Status.READY).first()
    if media is None:
        return None
    if media.preview_key:
        return media
    duration = float(media.duration_seconds or 0.0)
    with tempfile.TemporaryDirectory(prefix="phonoglyph-preview-") as scratch:
        output = Path(scratch) / f"preview.{PREVIEW_EXTENSION}"
        try:
            if local is None:
                with media_open_local_copy(media=media) as copy:
                    preview = _transcode(copy, output, duration)
            else:
                preview = _transcode(local, output, duration)
        except (EngineError, MediaNotAvailable) as failure:
            logger.warning("no preview for media %s: %s", media_id, failure)
            media_preview_give_up(media_id=media_id)
            media.refresh_from_db()
            return media
        key = storage_preview_key_new(extension=PREVIEW_EXTENSION)
        with preview.path.open("rb") as handle:
            storage_save(key=key, content=File(handle), content_type=preview.content_type)
    with transaction.atomic():
        # Row lock: the media may have been deleted (or given a preview by a duplicate task
        # delivery) while this one transcoded; then the object just stored is an orphan.
        current = MediaFile.objects.select_for_update().get(pk=media_id)
        if current.status == MediaFile.Status.READY and not current.preview_key:
            current.preview_key = key
            current.preview_content_type = preview.content_type
            current.preview_status = MediaFile.PreviewStatus.READY
            current.save(
                update_fields=[
                    "preview_key",
                    "preview_content_type",
                    "preview_status",
                    "updated_at",
                ]
            )
            logger.info("preview stored", extra={"media_id": media_id, "bytes": preview.size_bytes})
            return current
    storage_delete(key=key)
    return current if current.status == MediaFile.Status.READY else None


def _transcode(local: LocalAudio, output: Path, duration: float) -> Preview:
    return transcode_preview(
        local.path,
        input_format=local.input_format,
        output=output,
        duration_seconds=duration,
        timeout=_TIMEOUT_BASE_SECONDS + _TIMEOUT_PER_AUDIO_SECOND * duration,
    )
