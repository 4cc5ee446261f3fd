"""Where a finished separation is kept: four private FLAC objects in storage, listed in its row.

Keys are derived from the job (`stems/<job id>/<stem>.flac`), so whatever a crashed or killed
run may have left in storage can be found and removed without having been recorded.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files import File

from engine.stems import STEM_NAMES, SeparationResult
from media.errors import StorageUnavailable
from media.storage import storage_delete, storage_save
from stems.models import StemSeparationJob

FLAC_CONTENT_TYPE = "audio/flac"


@dataclass
class Separated:
    """A run's outcome: the engine's result and the local folder holding its files.

    The folder removes itself when this object is dropped, so a run whose result is never
    stored (a cancelled job) leaves nothing behind on the worker's disk.
    """

    result: SeparationResult
    folder: tempfile.TemporaryDirectory[str]


def stem_key(job_id: int, name: str) -> str:
    return f"stems/{job_id}/{name}.flac"


def stem_files_delete(*, job_id: int) -> None:
    """Remove every stem object a job may have stored (missing ones are fine).

    Raises StorageUnavailable when the backend fails; nothing is recorded then, so a later
    sweep tries again.
    """
    for name in STEM_NAMES:
        storage_delete(key=stem_key(job_id, name))


def stem_result_store(job: StemSeparationJob, outcome: Separated) -> dict[str, Any]:
    """Upload the four stems and return the job's fields to record with its success.

    Raises StorageUnavailable (a transient failure: the run is retried) when storage refuses a
    write; the objects already written are then removed, or left for the sweep.
    """
    stems: list[dict[str, Any]] = []
    try:
        for stem in outcome.result.stems:
            key = stem_key(job.pk, stem.name)
            path = Path(stem.path)
            # A retried run writes the same keys; the storage must not rename around them.
            storage_delete(key=key)
            with path.open("rb") as handle:
                storage_save(key=key, content=File(handle), content_type=FLAC_CONTENT_TYPE)
            stems.append(
                {
                    "name": stem.name,
                    "key": key,
                    "size_bytes": path.stat().st_size,
                    "peak": stem.peak,
                    "source": stem.provenance.source,
                    "method": stem.provenance.method,
                }
            )
    except StorageUnavailable:
        with contextlib.suppress(StorageUnavailable):
            stem_files_delete(job_id=job.pk)
        raise
    finally:
        outcome.folder.cleanup()
    return {
        "engine_version": outcome.result.version,
        "stems": stems,
        "channels": outcome.result.channels,
        "sample_rate": outcome.result.sample_rate,
    }
