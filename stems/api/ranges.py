"""Byte-range answers for stems on local disk, so that a player can seek in them.

A media element can only seek within what the server says it can serve by range; without
`Accept-Ranges` every seek lands back at zero. S3 answers ranges itself (behind the presigned
redirect), so this serves local storage only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

from media.errors import StorageUnavailable
from media.storage import (
    STORAGE_ERRORS,
    content_disposition,
    storage_download_response,
    storage_is_s3,
)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK_BYTES = 256 * 1024


def _chunks(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _bounds(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range one `Range` header asks for; None when it is not satisfiable."""
    match = _RANGE.match(header.strip())
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first, last = match.groups()
    if not first:
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end < size else None


def ranged_download_response(
    *, key: str, filename: str, content_type: str, range_header: str
) -> HttpResponseBase:
    """Answer a download of `key`, honouring a single `Range: bytes=` request on local disk.

    Raises StorageUnavailable when the stored file cannot be read.
    """
    if storage_is_s3():
        return storage_download_response(key=key, filename=filename, content_type=content_type)
    try:
        size = default_storage.size(key)
        handle = default_storage.open(key, "rb")
    except STORAGE_ERRORS as error:
        raise StorageUnavailable("The stored file could not be read.") from error
    bounds = _bounds(range_header, size) if range_header else (0, size - 1)
    if bounds is None:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    start, end = bounds
    response = StreamingHttpResponse(
        _chunks(handle, start, end - start + 1),
        status=206 if range_header else 200,
        content_type=content_type,
    )
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition(filename)
    if range_header:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
