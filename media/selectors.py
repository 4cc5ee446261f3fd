"""Reads of media, each scoped to the user asking."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from uuid import UUID

from django.db.models import Count, QuerySet, Sum

from accounts.models import User
from media.errors import MediaNotAvailable, MediaNotFound
from media.models import MediaFile
from media.storage import storage_download_to, storage_local_path


class LocalAudio(NamedTuple):
    """A readable local copy of stored audio and the demuxer to decode it with."""

    path: Path
    input_format: str


@dataclass(frozen=True)
class OwnerStorage:
    owner_email: str
    file_count: int
    total_bytes: int


def media_list_for_user(*, user: User) -> QuerySet[MediaFile]:
    """The user's media (ready and rejected, never deleted), newest first."""
    return (
        MediaFile.objects.filter(owner=user)
        .exclude(status=MediaFile.Status.DELETED)
        .order_by("-created_at", "-id")
    )


def media_get_for_user(*, user: User, public_id: UUID) -> MediaFile:
    """Return the user's media with this public id; raise MediaNotFound (404) for anyone else's.

    Deleted media are not found.
    """
    media = media_list_for_user(user=user).filter(public_id=public_id).first()
    if media is None:
        raise MediaNotFound("No such media file.")
    return media


def media_get_ready_for_user(*, user: User, public_id: UUID) -> MediaFile:
    """Like media_get_for_user, but raise MediaNotAvailable (409) unless its audio is stored."""
    media = media_get_for_user(user=user, public_id=public_id)
    if not media.is_ready:
        raise MediaNotAvailable("This upload was refused, so there is no audio to use.")
    return media


def media_get_preview_for_user(*, user: User, public_id: UUID) -> MediaFile:
    """Like media_get_ready_for_user, but raise MediaNotAvailable (409) until its browser-
    playable preview exists."""
    media = media_get_ready_for_user(user=user, public_id=public_id)
    if not media.preview_key:
        raise MediaNotAvailable("The playable preview of this upload is not ready yet.")
    return media


def media_storage_used_bytes(*, user: User) -> int:
    """Bytes the user's stored (ready) media take up, as counted against the quota."""
    total = MediaFile.objects.filter(owner=user, status=MediaFile.Status.READY).aggregate(
        total=Sum("size_bytes")
    )["total"]
    return int(total or 0)


def media_storage_by_owner(*, limit: int = 50) -> list[OwnerStorage]:
    """Staff view: the owners using the most storage, largest first."""
    rows = (
        MediaFile.objects.filter(status=MediaFile.Status.READY)
        .values("owner__email")
        .annotate(file_count=Count("id"), total_bytes=Sum("size_bytes"))
        .order_by("-total_bytes")[:limit]
    )
    return [
        OwnerStorage(
            owner_email=str(row["owner__email"]),
            file_count=int(row["file_count"]),
            total_bytes=int(row["total_bytes"] or 0),
        )
        for row in rows
    ]


@contextmanager
def media_open_local_copy(*, media: MediaFile) -> Iterator[LocalAudio]:
    """Yield a local path holding the media's audio, and its container for `input_format`.

    On local disk this is the stored file itself (read it, never write it); on S3 it is a
    temporary download removed on exit. Raises MediaNotAvailable (409) unless the media is
    ready, and StorageUnavailable (503) when the object cannot be fetched.
    """
    if not media.is_ready:
        raise MediaNotAvailable("This media file has no stored audio.")
    local = storage_local_path(key=media.storage_key)
    if local is not None:
        yield LocalAudio(path=local, input_format=media.container)
        return
    suffix = Path(media.storage_key).suffix
    with tempfile.NamedTemporaryFile(prefix="phonoglyph-", suffix=suffix) as copy:
        storage_download_to(key=media.storage_key, fileobj=copy)
        copy.flush()
        yield LocalAudio(path=Path(copy.name), input_format=media.container)
