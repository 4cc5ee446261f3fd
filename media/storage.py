"""Private object storage for uploads, through Django's storage API.

S3 (django-storages) when AWS_STORAGE_BUCKET_NAME is set, local disk under MEDIA_ROOT otherwise.
Nothing here is ever served by URL: local files stream through an authenticated view, S3
objects through short-lived SigV4 presigned URLs.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

from media.errors import StorageUnavailable

logger = logging.getLogger(__name__)

# Failures of the storage backend itself (disk, network, S3 refusing us), as opposed to bugs.
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)


def storage_is_s3() -> bool:
    return isinstance(default_storage, S3Storage)


def storage_key_new(*, extension: str) -> str:
    """Return a fresh random key; no part of it comes from the user."""
    return f"audio/{uuid.uuid4().hex}.{extension}"


def storage_save(*, key: str, content: File[Any], content_type: str) -> None:
    """Store `content` under `key` with the detected `content_type` (never the client's).

    Raises StorageUnavailable when the backend fails.
    """
    # django-storages sends `content.content_type` as the object's ContentType; the local
    # backend ignores it and the type is kept on the model instead.
    content.content_type = content_type  # type: ignore[attr-defined]
    content.seek(0)
    try:
        saved = default_storage.save(key, content)
    except STORAGE_ERRORS as error:
        logger.exception("storage backend failed for %s", key)
        raise StorageUnavailable("The file could not be stored. Try again later.") from error
    if saved != key:
        # Keys are random, so a different name means the backend renamed around a collision
        # we cannot explain; refuse rather than point the row at the wrong object.
        default_storage.delete(saved)
        raise StorageUnavailable("The file could not be stored under its key.")


def storage_delete(*, key: str) -> None:
    """Delete the object at `key` (a missing object is not an error)."""
    try:
        default_storage.delete(key)
    except STORAGE_ERRORS as error:
        logger.exception("storage backend failed for %s", key)
        raise StorageUnavailable("The file could not be deleted. Try again later.") from error


def storage_presigned_url(*, key: str, filename: str, content_type: str) -> str:
    """Return a short-lived (AWS_QUERYSTRING_EXPIRE s) SigV4 URL that downloads `key`."""
    parameters = {
        "ResponseContentDisposition": content_disposition(filename),
        "ResponseContentType": content_type,
    }
    # Only S3Storage.url() takes response parameters and an expiry.
    remote: Any = default_storage
    url: str = remote.url(key, parameters=parameters, expire=settings.AWS_QUERYSTRING_EXPIRE)
    return url


def content_disposition(filename: str) -> str:
    """An `attachment` Content-Disposition with an ASCII fallback and the RFC 5987 name."""
    header = content_disposition_header(as_attachment=True, filename=filename or "audio")
    return header or "attachment"


def storage_local_path(*, key: str) -> Path | None:
    """Return the filesystem path of `key` on local disk storage, None on remote storage."""
    try:
        return Path(default_storage.path(key))
    except NotImplementedError:
        return None


def storage_download_to(*, key: str, fileobj: IO[bytes]) -> None:
    """Stream the remote object `key` into `fileobj` in chunks (never whole in memory)."""
    # S3Storage.open() would buffer the object in a SpooledTemporaryFile that, with the
    # default AWS_S3_MAX_MEMORY_SIZE of 0, never rolls over to disk.
    remote: Any = default_storage
    try:
        remote.bucket.download_fileobj(remote._normalize_name(key), fileobj)
    except STORAGE_ERRORS as error:
        logger.exception("storage backend failed for %s", key)
        raise StorageUnavailable("The stored file could not be fetched.") from error


def storage_download_response(*, key: str, filename: str, content_type: str) -> HttpResponseBase:
    """Answer a download: a presigned redirect on S3, a streamed attachment on local disk."""
    if storage_is_s3():
        return HttpResponseRedirect(
            storage_presigned_url(key=key, filename=filename, content_type=content_type)
        )
    try:
        stream = default_storage.open(key, "rb")
    except STORAGE_ERRORS as error:
        logger.exception("storage backend failed for %s", key)
        raise StorageUnavailable("The stored file could not be read.") from error
    return FileResponse(
        stream, as_attachment=True, filename=filename or "audio", content_type=content_type
    )
