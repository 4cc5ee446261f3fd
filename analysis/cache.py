"""Cache-aside for finished analyses: their detail, Spotify-style view and arrays.

A succeeded job's result never changes, so what is built from it is kept in Django's cache
(Redis in production, shared by every web process) under a key naming its owner and the job,
so that a hit needs no read of the job at all: the detail as data, the arrays and the
Spotify-style view as the stored gzip JSON, which the API sends as it is. A miss reads the
database or storage and fills the cache; any save or delete of the job evicts its entries,
because deletions come by cascade (a user or an upload deleted) and from the admin, which no
service of ours sees.

With the cache unreachable, reads go to the database and storage and nothing is stored; a job
saved or deleted meanwhile cannot evict its entries, which is logged as an error naming the
job, since its old entries may be served until they expire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from analysis.models import AnalysisJob
from core.cache import UNREACHABLE, shared_cache_failed, shared_cache_get, shared_cache_set
from telemetry.reporting import observe_result_cache

logger = logging.getLogger(__name__)

CachedPart = Literal["detail", "arrays", "audio-analysis"]
PARTS: tuple[CachedPart, ...] = ("detail", "arrays", "audio-analysis")


def detail_key(*, owner_id: int, public_id: UUID) -> str:
    """The detail is looked up before the job is read, so its key holds only what the request
    names: the owner (a job is only ever served to its owner) and the job's public id."""
    return f"analysis:v2:detail:{owner_id}:{public_id}"


def _part_key(*, owner_id: int, public_id: UUID, part: CachedPart) -> str:
    # Like the detail's, so that a hit needs no read of the job; v2: the stored gzip JSON.
    return f"analysis:v2:{part}:{owner_id}:{public_id}"


def result_part_cached(job: AnalysisJob, part: CachedPart, load: Callable[[], bytes]) -> bytes:
    """`load()`'s stored gzip JSON of a succeeded job's `part`, from the cache when there."""
    key = _part_key(owner_id=job.owner_id, public_id=job.public_id, part=part)
    value: bytes | None = shared_cache_get(key)
    observe_result_cache(part, hit=value is not None)
    if value is None:
        value = load()
        shared_cache_set(key, value, timeout=settings.PHONOGLYPH_RESULT_CACHE_SECONDS)
    return value


def result_part_cached_get(*, owner_id: int, public_id: UUID, part: CachedPart) -> bytes | None:
    """The cached `part` of job `public_id` of `owner_id`, or None (not counted: the caller
    then reads the job and asks result_part_cached, which counts the miss)."""
    value: bytes | None = shared_cache_get(
        _part_key(owner_id=owner_id, public_id=public_id, part=part)
    )
    if value is not None:
        observe_result_cache(part, hit=True)
    return value


def detail_cached_get(*, owner_id: int, public_id: UUID) -> dict[str, Any] | None:
    """A succeeded job's cached detail, or None; counts the hit or miss."""
    value: dict[str, Any] | None = shared_cache_get(
        detail_key(owner_id=owner_id, public_id=public_id)
    )
    observe_result_cache("detail", hit=value is not None)
    return value


def detail_cache_set(job: AnalysisJob, data: dict[str, Any]) -> None:
    """Keep a job's detail once it succeeded; until then it still changes."""
    if job.status == AnalysisJob.Status.SUCCEEDED:
        shared_cache_set(
            detail_key(owner_id=job.owner_id, public_id=job.public_id),
            data,
            timeout=settings.PHONOGLYPH_RESULT_CACHE_SECONDS,
        )


def result_cache_keys(job: AnalysisJob) -> list[str]:
    keys = [detail_key(owner_id=job.owner_id, public_id=job.public_id)]
    return keys + [
        _part_key(owner_id=job.owner_id, public_id=job.public_id, part=part)
        for part in PARTS
        if part != "detail"
    ]


def result_cache_evict(job: AnalysisJob) -> None:
    try:
        cache.delete_many(result_cache_keys(job))
    except UNREACHABLE as error:
        shared_cache_failed(error)
        logger.error(
            "cache unreachable: the cached results of analysis %s may be served until they "
            "expire (PHONOGLYPH_RESULT_CACHE_SECONDS): %s",
            job.public_id,
            error,
        )


def _evict(sender: type[AnalysisJob], instance: AnalysisJob, **kwargs: Any) -> None:
    result_cache_evict(instance)


def result_cache_connect() -> None:
    post_save.connect(_evict, sender=AnalysisJob, dispatch_uid="analysis-result-cache-save")
    post_delete.connect(_evict, sender=AnalysisJob, dispatch_uid="analysis-result-cache-delete")
