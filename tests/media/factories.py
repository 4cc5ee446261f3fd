# factory_boy's declarations are untyped callables; the factories' create() is typed.
# mypy: disallow-untyped-calls=False
from __future__ import annotations

import uuid

from factory.declarations import LazyFunction, Sequence, SubFactory
from factory.django import DjangoModelFactory

from media.models import MediaFile, UploadRejection
from tests.factories import UserFactory


class MediaFileFactory(DjangoModelFactory[MediaFile]):
    class Meta:
        model = MediaFile

    owner = SubFactory(UserFactory)
    display_name = Sequence(lambda n: f"track-{n}.wav")
    storage_key = LazyFunction(lambda: f"audio/{uuid.uuid4().hex}.wav")
    size_bytes = 176_444
    sha256 = LazyFunction(lambda: uuid.uuid4().hex * 2)
    container = "wav"
    codec = "pcm_s16le"
    duration_seconds = 1.0
    sample_rate = 44100
    channels = 2
    bit_rate = 1_411_200
    content_type = "audio/wav"
    status = MediaFile.Status.READY


class UploadRejectionFactory(DjangoModelFactory[UploadRejection]):
    class Meta:
        model = UploadRejection

    user = SubFactory(UserFactory)
    code = "content_mismatch"
    size_bytes = 1024
