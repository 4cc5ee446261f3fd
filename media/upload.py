"""Receiving an upload: stream the `file` field to a temporary file, hashing it on the way.

`MediaUploadHandler` replaces Django's upload handlers for the upload views. It never keeps
the file in memory (TemporaryFileUploadHandler semantics) and stops reading once the body
exceeds PHONOGLYPH_MAX_UPLOAD_BYTES, so an oversized upload costs neither memory nor disk.
Install it before anything reads the body: CSRF checks read `request.POST`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

UPLOAD_FIELD = "file"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# The temporary file's name is ours: the client's name may hold NUL bytes or path tricks.
TEMPORARY_NAME = "upload.bin"


@dataclass(frozen=True)
class ReceivedUpload:
    """What arrived: the file on disk (None when nothing usable did) and what we measured."""

    file: TemporaryUploadedFile | None
    original_name: str
    size_bytes: int
    sha256: str
    too_large: bool


class MediaUploadHandler(FileUploadHandler):
    """Stream the first `file` part to disk with its SHA-256; stop past `max_bytes`."""

    chunk_size = 256 * 1024

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received_bytes = 0
        self.too_large = False
        self.original_name = ""
        # Deliberately not named `file`: Django's parser closes `handler.file` on StopUpload
        # without checking that one exists.
        self._file: TemporaryUploadedFile | None = None
        self._digest = hashlib.sha256()
        self._receiving = False
        self._completed: TemporaryUploadedFile | None = None

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[Any]]] | None:
        # A declared length over the limit is refused before a single byte is read.
        if content_length > self.max_bytes + MULTIPART_OVERHEAD_BYTES:
            self.too_large = True
            self.received_bytes = content_length
            return QueryDict(), MultiValueDict()
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        # Only the first `file` part is kept; other parts are read and dropped so that
        # nobody can make the server store files it did not ask for.
        self._receiving = field_name == UPLOAD_FIELD and self._completed is None
        if self._receiving:
            self.original_name = file_name
            self._file = TemporaryUploadedFile(TEMPORARY_NAME, "application/octet-stream", 0, None)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received_bytes += len(raw_data)
        if self.received_bytes > self.max_bytes:
            self.too_large = True
            if self._file is not None:
                # Closing a temporary upload deletes it from disk.
                self._file.close()
            raise StopUpload(connection_reset=True)
        if self._receiving and self._file is not None:
            self._file.write(raw_data)
            self._digest.update(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile[Any] | None:
        if not self._receiving or self._file is None:
            return None
        self._receiving = False
        self._file.seek(0)
        self._file.size = file_size
        # Named after its content, so request fingerprints (Idempotency-Key) cover the bytes.
        self._file.name = self.sha256
        self._completed = self._file
        return self._file

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def media_upload_handler_install(request: HttpRequest) -> MediaUploadHandler:
    """Make `request` stream its body through a new MediaUploadHandler and return it."""
    handler = MediaUploadHandler(request, max_bytes=settings.PHONOGLYPH_MAX_UPLOAD_BYTES)
    request.upload_handlers = [handler]
    return handler


def received_upload(
    *, handler: MediaUploadHandler, files: MultiValueDict[str, UploadedFile[Any]]
) -> ReceivedUpload:
    """Describe what `handler` received, given the parsed request files."""
    uploaded = None if handler.too_large else files.get(UPLOAD_FIELD)
    if not isinstance(uploaded, TemporaryUploadedFile):
        uploaded = None
    return ReceivedUpload(
        file=uploaded,
        original_name=handler.original_name,
        size_bytes=handler.received_bytes if uploaded is None else int(uploaded.size or 0),
        sha256="" if uploaded is None else handler.sha256,
        too_large=handler.too_large,
    )


@contextmanager
def received_upload_from_path(*, path: Path, name: str) -> Iterator[ReceivedUpload]:
    """A file the server already has (a bundled recording), copied as if it had been uploaded.

    The copy lets it take every step of an upload (validation, scan, storage) unchanged; it is
    removed when the block ends. `name` is the name the owner sees.
    """
    temporary = TemporaryUploadedFile(TEMPORARY_NAME, "application/octet-stream", 0, None)
    try:
        digest = hashlib.sha256()
        with path.open("rb") as source:
            for chunk in iter(lambda: source.read(MediaUploadHandler.chunk_size), b""):
                digest.update(chunk)
                temporary.write(chunk)
        temporary.flush()
        size_bytes = temporary.tell()
        temporary.seek(0)
        temporary.size = size_bytes
        yield ReceivedUpload(
            file=temporary,
            original_name=name,
            size_bytes=size_bytes,
            sha256=digest.hexdigest(),
            too_large=size_bytes > settings.PHONOGLYPH_MAX_UPLOAD_BYTES,
        )
    finally:
        # Closing a temporary upload deletes it from disk.
        temporary.close()
