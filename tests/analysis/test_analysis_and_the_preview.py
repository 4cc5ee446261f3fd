"""An analysis run keeps the preview its upload already has, and makes the one it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from analysis.services import analysis_job_create, analysis_job_run
from media.models import MediaFile
from media.preview import media_preview_make
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def _previews() -> list[Path]:
    return sorted((Path(settings.MEDIA_ROOT) / "previews").glob("*"))


def _analysed(user: User, media: MediaFile) -> MediaFile:
    give_credits(user, 10)
    job = analysis_job_create(user=user, media_public_id=media.public_id, features=["tempo"])
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    return MediaFile.objects.get(pk=media.pk)


def test_an_analysis_keeps_the_preview_made_on_upload(user: User) -> None:
    media = media_preview_make(media_id=MediaFileFactory.create(owner=user).pk)
    assert media is not None
    made = _previews()
    assert len(made) == 1
    written = made[0].stat().st_mtime_ns

    analysed = _analysed(user, media)

    assert analysed.preview_key == media.preview_key
    assert _previews() == made
    assert made[0].stat().st_mtime_ns == written


def test_an_analysis_makes_the_preview_the_upload_could_not_get(user: User) -> None:
    media = MediaFileFactory.create(owner=user, preview_status=MediaFile.PreviewStatus.FAILED)

    analysed = _analysed(user, media)

    assert analysed.preview_status == "ready"
    assert [f"previews/{path.name}" for path in _previews()] == [analysed.preview_key]
