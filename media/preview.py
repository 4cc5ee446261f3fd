"""The browser-playable preview of an upload, made by a worker after the upload.

Media owns the preview: it is a copy of the user's audio, stored privately beside it and
deleted with it. It is made by the `media.tasks.media_preview_make` task, which the upload
enqueues once its row is committed, so it exists whether or not the file is ever analysed.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction

from engine.errors import EngineError
from engine.preview import PREVIEW_EXTENSION, transcode_preview
from media.errors import MediaNotAvailable
from media.models import MediaFile
from media.selectors import media_open_local_copy
from media.storage import storage_delete, storage_preview_key_new, storage_save

logger = logging.getLogger(__name__)

# Transcoding runs far faster than real time; the deadline only stops a stuck child.
_TIMEOUT_BASE_SECONDS = 60.0
_TIMEOUT_PER_AUDIO_SECOND = 0.5


def media_preview_make(*, media_id: int) -> MediaFile | None:
    """Make and store the preview of media `media_id`, once; return the media.

    Returns None when the media is gone or no longer ready. Audio ffmpeg cannot transcode
    leaves the media without a preview (logged; the page then offers the original upload).
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
            with media_open_local_copy(media=media) as local:
                preview = transcode_preview(
                    local.path,
                    input_format=local.input_format,
                    output=output,
                    duration_seconds=duration,
                    timeout=_TIMEOUT_BASE_SECONDS + _TIMEOUT_PER_AUDIO_SECOND * duration,
                )
        except (EngineError, MediaNotAvailable) as failure:
            logger.warning("no preview for media %s: %s", media_id, failure)
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
            current.save(update_fields=["preview_key", "preview_content_type", "updated_at"])
            logger.info("preview stored", extra={"media_id": media_id, "bytes": preview.size_bytes})
            return current
    storage_delete(key=key)
    return current if current.status == MediaFile.Status.READY else None
