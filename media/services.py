"""State changes of media: accepting or refusing an upload, deleting a file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage

from accounts.models import User
from core.api.exceptions import DomainError
from media.errors import (
    FileMissing,
    FileTooLarge,
    QuotaExceeded,
    StorageUnavailable,
    UploadRateLimited,
    UploadRejected,
)
from media.follow_ups import FollowUpOutcome, upload_follow_ups
from media.metadata import validate_metadata_budget
from media.models import MediaFile, UploadRejection
from media.preview import media_preview_request
from media.selectors import media_get_for_user, media_storage_used_bytes
from media.storage import storage_delete, storage_key_new, storage_save
from media.upload import ReceivedUpload
from media.validation import (
    CONTENT_TYPES,
    SNIFF_BYTES,
    format_bytes,
    sanitize_display_name,
    scan_for_malware,
    validate_audio,
    validate_container_header,
    validate_content,
    validate_extension,
    validate_size,
)
from telemetry.reporting import emit_event, observe_upload_rejected

logger = logging.getLogger(__name__)


def media_upload_rate_limit_check(*, request: HttpRequest, user: User) -> None:
    """Count one upload attempt for `user`; raise UploadRateLimited (429) past the hourly limit.

    Every attempt counts, refused ones included: probing and scanning cost the same either way.
    """
    limit = settings.PHONOGLYPH_UPLOADS_PER_HOUR
    usage = get_usage(
        request,
        group="media.upload",
        key=lambda _group, _request: str(user.pk),
        rate=f"{limit}/h",
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        retry_after = max(1, int(usage["time_left"]))
        raise UploadRateLimited(
            f"You can upload {limit} files an hour. Try again in {retry_after} seconds.",
            extra={"retry_after": retry_after},
        )


def media_upload(*, user: User, upload: ReceivedUpload) -> MediaFile:
    """Validate an upload, store it under a random key, record it as ready and queue the
    making of its playable preview once committed.

    Raises an UploadRejected subclass (recorded, counted, and kept as a rejected MediaFile;
    nothing is written to storage), FileMissing when no file part arrived, or
    StorageUnavailable when the backend fails.
    """
    try:
        return _media_accept(user=user, upload=upload)
    except UploadRejected as rejection:
        _media_reject(user=user, upload=upload, rejection=rejection)
        raise


def _media_accept(*, user: User, upload: ReceivedUpload) -> MediaFile:
    if upload.too_large:
        limit = settings.PHONOGLYPH_MAX_UPLOAD_BYTES
        raise FileTooLarge(
            f"The file is larger than the {format_bytes(limit)} upload limit.",
            extra={"max_bytes": limit},
        )
    if upload.file is None:
        raise FileMissing("No file was sent. Choose an audio file (multipart field 'file').")
    display_name = sanitize_display_name(upload.original_name)
    validate_size(size_bytes=upload.size_bytes)
    extension = validate_extension(name=display_name)
    upload.file.seek(0)
    head = upload.file.read(SNIFF_BYTES)
    container = validate_content(head=head, extension=extension)
    validate_container_header(head=head, size_bytes=upload.size_bytes, container=container)
    # Checked before the expensive steps, and again under a lock before the row is written.
    _quota_check(user=user, size_bytes=upload.size_bytes)
    path = Path(upload.file.temporary_file_path())
    validate_metadata_budget(path=path, container=container, size_bytes=upload.size_bytes)
    probe = validate_audio(path=path, container=container, size_bytes=upload.size_bytes)
    scan_for_malware(path=path)

    key = storage_key_new(extension=extension)
    content_type = CONTENT_TYPES[container]
    storage_save(key=key, content=upload.file, content_type=content_type)
    try:
        with transaction.atomic():
            # Lock the owner so that two concurrent uploads cannot both fit under the quota.
            User.objects.select_for_update().filter(pk=user.pk).first()
            _quota_check(user=user, size_bytes=upload.size_bytes)
            media = MediaFile.objects.create(
                owner=user,
                display_name=display_name,
                storage_key=key,
                size_bytes=upload.size_bytes,
                sha256=upload.sha256,
                container=container,
                codec=probe.codec,
                duration_seconds=probe.duration,
                sample_rate=probe.sample_rate,
                channels=probe.channels,
                bit_rate=probe.bit_rate,
                content_type=content_type,
                status=MediaFile.Status.READY,
                preview_status=MediaFile.PreviewStatus.PENDING,
            )
            media_preview_request(media_id=media.pk)
    except BaseException:
        # The object must not outlive a row that was never written; a failure to clean up
        # must not hide the error that got us here.
        with contextlib.suppress(StorageUnavailable):
            storage_delete(key=key)
        raise
    logger.info("media uploaded", extra={"media_id": media.pk, "size_bytes": media.size_bytes})
    emit_event(
        "media_uploaded",
        user_id=user.pk,
        properties={
            "media_id": media.pk,
            "size_bytes": media.size_bytes,
            "duration_seconds": media.duration_seconds,
            "format": media.container,
        },
    )
    return media


def media_follow_ups_start(
    *, user: User, media: MediaFile, fields: Collection[str]
) -> dict[str, FollowUpOutcome]:
    """Start the registered follow-ups named in `fields` on the fresh upload `media`.

    Each is started on its own, and a refusal is reported in its outcome rather than raised:
    the upload has been accepted and stays whatever a follow-up decides.
    """
    outcomes: dict[str, FollowUpOutcome] = {}
    for follow_up in upload_follow_ups():
        if follow_up.field not in fields:
            continue
        try:
            outcomes[follow_up.field] = follow_up.start(user, media)
        except DomainError as refusal:
            outcomes[follow_up.field] = refusal
    return outcomes


def _quota_check(*, user: User, size_bytes: int) -> None:
    quota = settings.PHONOGLYPH_USER_QUOTA_BYTES
    used = media_storage_used_bytes(user=user)
    if used + size_bytes > quota:
        raise QuotaExceeded(
            f"This file ({format_bytes(size_bytes)}) does not fit in your storage: you use "
            f"{format_bytes(used)} of {format_bytes(quota)}. Delete files to make room.",
            extra={"quota_bytes": quota, "used_bytes": used},
        )


def _media_reject(*, user: User, upload: ReceivedUpload, rejection: UploadRejected) -> None:
    with transaction.atomic():
        UploadRejection.objects.create(
            user=user, code=rejection.code, size_bytes=upload.size_bytes, sha256=upload.sha256
        )
        MediaFile.objects.create(
            owner=user,
            display_name=sanitize_display_name(upload.original_name),
            size_bytes=upload.size_bytes,
            sha256=upload.sha256,
            status=MediaFile.Status.REJECTED,
            rejection_code=rejection.code,
            rejection_message=rejection.detail,
        )
    logger.info("upload rejected", extra={"code": rejection.code, "size_bytes": upload.size_bytes})
    observe_upload_rejected(rejection.code)
    emit_event(
        "media_rejected",
        user_id=user.pk,
        properties={"code": rejection.code, "size_bytes": upload.size_bytes},
    )


def media_delete(*, user: User, public_id: UUID) -> MediaFile:
    """Delete the user's media: remove the stored object and its preview, mark the row deleted.

    Raises MediaNotFound (404) for media that is not the user's, and StorageUnavailable (503)
    when the object cannot be removed (the row then stays as it was, so a retry works).
    """
    found = media_get_for_user(user=user, public_id=public_id)
    with transaction.atomic():
        # Row lock: a concurrent delete waits here and then finds the row already deleted.
        media = MediaFile.objects.select_for_update().get(pk=found.pk)
        if media.status == MediaFile.Status.DELETED:
            return media
        if media.storage_key:
            storage_delete(key=media.storage_key)
        if media.preview_key:
            storage_delete(key=media.preview_key)
        media.status = MediaFile.Status.DELETED
        media.deleted_at = timezone.now()
        media.save(update_fields=["status", "deleted_at", "updated_at"])
    emit_event("media_deleted", user_id=user.pk, properties={"media_id": media.pk})
    return media
