"""Private object storage for uploads, through Django's storage API.

S3 (django-storages) when AWS_STORAGE_BUCKET_NAME is set, local disk under MEDIA_ROOT otherwise.
Nothing here is ever served by URL: local files stream through an authenticated view, S3
objects through short-lived SigV4 presigned URLs.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
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


def storage_preview_key_new(*, extension: str) -> str:
    """Return a fresh random key for a browser-playable preview."""
    return f"previews/{uuid.uuid4().hex}.{extension}"


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


def storage_presigned_url(
    *, key: str, filename: str, content_type: str, inline: bool = False
) -> str:
    """Return a short-lived (AWS_QUERYSTRING_EXPIRE s) SigV4 URL that downloads `key`.

    `inline` asks for a response a media element plays rather than saves.
    """
    disposition = "inline" if inline else content_disposition(filename)
    parameters = {
        "ResponseContentDisposition": disposition,
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


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_STREAM_CHUNK_BYTES = 64 * 1024


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single-range `Range` header, None for the whole.

    Raises ValueError when the range cannot be satisfied. Multiple ranges are answered with the
    whole object, which RFC 9110 allows a server to do.
    """
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            raise ValueError("empty suffix range")
        return max(0, size - int(last_text)), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise ValueError("range outside the object")
    return first, last


def _chunks(stream: IO[bytes], remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = stream.read(min(_STREAM_CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


def storage_stream_response(*, key: str, content_type: str, range_header: str) -> HttpResponseBase:
    """Answer a media element: a presigned redirect on S3 (which honours Range itself), or
    the local file inline with single-range support (206 Partial Content, 416 when outside).
    """
    if storage_is_s3():
        return HttpResponseRedirect(
            storage_presigned_url(key=key, filename="", content_type=content_type, inline=True)
        )
    try:
        size = default_storage.size(key)
        stream = default_storage.open(key, "rb")
    except STORAGE_ERRORS as error:
        logger.exception("storage backend failed for %s", key)
        raise StorageUnavailable("The stored file could not be read.") from error
    try:
        byte_range = _byte_range(range_header, size) if range_header else None
    except ValueError:
        stream.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    first, last = byte_range or (0, size - 1)
    stream.seek(first)
    response = StreamingHttpResponse(
        _chunks(stream, last - first + 1),
        status=206 if byte_range else 200,
        content_type=content_type,
    )
    response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = "inline"
    # Private audio: a shared cache must never keep it.
    response["Cache-Control"] = "private, max-age=3600"
    if byte_range:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
