from __future__ import annotations

import uuid

import factory

from media.models import MediaFile, UploadRejection
from tests.factories import UserFactory


class MediaFileFactory(factory.django.DjangoModelFactory[MediaFile]):
    class Meta:
        model = MediaFile

    owner = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"track-{n}.wav")
    storage_key = factory.LazyFunction(lambda: f"audio/{uuid.uuid4().hex}.wav")
    size_bytes = 176_444
    sha256 = factory.LazyFunction(lambda: uuid.uuid4().hex * 2)
    container = "wav"
    codec = "pcm_s16le"
    duration_seconds = 1.0
    sample_rate = 44100
    channels = 2
    bit_rate = 1_411_200
    content_type = "audio/wav"
    status = MediaFile.Status.READY


class UploadRejectionFactory(factory.django.DjangoModelFactory[UploadRejection]):
    class Meta:
        model = UploadRejection

    user = factory.SubFactory(UserFactory)
    code = "content_mismatch"
    size_bytes = 1024
