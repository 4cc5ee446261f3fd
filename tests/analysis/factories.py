# factory_boy's declarations are untyped callables; the factories' create() is typed.
# mypy: disallow-untyped-calls=False
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from django.core.files import File
from factory.declarations import LazyAttribute, SelfAttribute, Sequence, SubFactory
from factory.django import DjangoModelFactory

from analysis.models import AnalysisJob
from engine.features import ENGINE_VERSION
from media.models import MediaFile
from media.storage import storage_key_new, storage_save
from tests.analysis.audio import click_track_with_chord
from tests.factories import UserFactory
from tests.support.audio import SAMPLE_RATE, write_wav

CLIP_SECONDS = 6.0


class MediaFileFactory(DjangoModelFactory[MediaFile]):
    """A ready upload whose stored audio is a 120 BPM click track over a C major chord.

    Pass `audio_bytes` to store other content instead (e.g. garbage for a decoder failure).
    """

    class Meta:
        model = MediaFile

    owner = SubFactory(UserFactory)
    display_name = Sequence(lambda n: f"clip-{n}.wav")
    status = MediaFile.Status.READY
    container = "wav"
    codec = "pcm_s16le"
    duration_seconds = CLIP_SECONDS
    sample_rate = SAMPLE_RATE
    channels = 2
    content_type = "audio/wav"

    @classmethod
    def _create(cls, model_class: type[MediaFile], *args: Any, **kwargs: Any) -> MediaFile:
        data = kwargs.pop("audio_bytes", None)
        if data is None:
            with tempfile.TemporaryDirectory() as folder:
                seconds = float(kwargs.get("duration_seconds") or CLIP_SECONDS)
                path = write_wav(Path(folder) / "clip.wav", click_track_with_chord(seconds=seconds))
                data = path.read_bytes()
        key = storage_key_new(extension="wav")
        with tempfile.TemporaryFile() as handle:
            handle.write(data)
            storage_save(key=key, content=File(handle), content_type="audio/wav")
        kwargs.update(
            storage_key=key, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
        media: MediaFile = super()._create(model_class, *args, **kwargs)
        return media


class AnalysisJobFactory(DjangoModelFactory[AnalysisJob]):
    """A queued job row, as analysis_job_create leaves it (without a credit reservation)."""

    class Meta:
        model = AnalysisJob

    media = SubFactory(MediaFileFactory)
    owner = SelfAttribute("media.owner")
    features = ["tempo", "key", "loudness", "onsets", "sections", "timeline", "waveform"]
    features_key = LazyAttribute(lambda job: ",".join(sorted(job.features)))
    engine_version = ENGINE_VERSION
    audio_sha256 = SelfAttribute("media.sha256")
    audio_seconds = SelfAttribute("media.duration_seconds")
    soft_time_limit = 120
    time_limit = 150
