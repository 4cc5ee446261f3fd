"""The browser-playable preview of an upload.

Media owns the preview: it is a copy of the user's audio, stored privately beside it and
deleted with it. A worker that already holds a local copy of the audio (the analysis job's
run) asks for it; until then the pages play the original upload.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction

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


def media_preview_make(*, media_id: int, local: LocalAudio | None = None) -> MediaFile | None:
    """Make and store the preview of media `media_id`, once; return the media.

    `local` is a local copy of its audio the caller already holds (media_open_local_copy);
    without it one is opened here.

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
            if local is None:
                with media_open_local_copy(media=media) as copy:
                    preview = _transcode(copy, output, duration)
            else:
                preview = _transcode(local, output, duration)
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


def _transcode(local: LocalAudio, output: Path, duration: float) -> Preview:
    return transcode_preview(
        local.path,
        input_format=local.input_format,
        output=output,
        duration_seconds=duration,
        timeout=_TIMEOUT_BASE_SECONDS + _TIMEOUT_PER_AUDIO_SECOND * duration,
    )
