"""Where a finished analysis is kept: the summary in its row, the large arrays in storage."""

from __future__ import annotations

import gzip
import json
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from analysis.models import AnalysisJob
from analysis.selectors import AUDIO_ANALYSIS_FEATURES
from engine.results import AnalysisResult
from media.errors import StorageUnavailable
from media.storage import STORAGE_ERRORS

# Arrays too large for a database row: stored gzip-compressed and loaded on demand.
ARRAY_FEATURES = ("timeline", "waveform")


def _split_result(result: AnalysisResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary kept in the row, and the per-frame arrays kept in storage."""
    data = result.to_dict()
    arrays = {name: data.pop(name) for name in ARRAY_FEATURES if name in data}
    return data, arrays


def _store_gzip_json(name: str, data: dict[str, Any]) -> str:
    payload = gzip.compress(json.dumps(data, separators=(",", ":")).encode(), compresslevel=6)
    try:
        return default_storage.save(name, ContentFile(payload))
    except STORAGE_ERRORS as error:
        raise StorageUnavailable("The analysis result could not be stored.") from error


def analysis_result_store(job: AnalysisJob, result: AnalysisResult) -> dict[str, Any]:
    """Write the arrays and the Spotify-style view (when its features were computed).

    Returns the job's fields to record with its success. Raises StorageUnavailable (a
    transient failure: the run is retried) when storage refuses the write.
    """
    from engine.spotify import to_audio_analysis

    summary, arrays = _split_result(result)
    arrays_key = _store_gzip_json(f"analysis/{job.pk}/arrays.json.gz", arrays) if arrays else ""
    audio_analysis_key = ""
    if set(AUDIO_ANALYSIS_FEATURES) <= set(result.features):
        audio_analysis_key = _store_gzip_json(
            f"analysis/{job.pk}/audio-analysis.json.gz", to_audio_analysis(result)
        )
    return {
        "engine_version": result.engine_version,
        "result": summary,
        "arrays_key": arrays_key,
        "audio_analysis_key": audio_analysis_key,
    }
