"""A separation run in-process, through the same lifecycle the Celery task calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from billing.models import CreditAccount, FeatureUsage, Transfer
from jobs.runner import job_run
from stems.kind import STEM_SEPARATION_KIND
from stems.models import StemSeparationJob
from stems.results import stem_key
from stems.services import stem_separation_job_create, stem_separation_jobs_sweep
from tests.analysis.factories import MediaFileFactory
from tests.stems.conftest import backing_media, give_credits

pytestmark = pytest.mark.django_db

NAMES = ("vocals", "drums", "bass", "other")


def _run(job: StemSeparationJob) -> StemSeparationJob:
    job_run(kind=STEM_SEPARATION_KIND, job_id=job.pk, worker_host="worker-a")
    job.refresh_from_db()
    return job


def test_a_run_stores_four_private_flac_stems_and_charges_per_started_minute(
    user: User,
) -> None:
    give_credits(user, 10)
    job = stem_separation_job_create(user=user, media_public_id=backing_media(user).public_id)
    assert job.credits_reserved == 3
    job = _run(job)
    assert job.status == "succeeded"
    assert [stem["name"] for stem in job.stem_list] == list(NAMES)
    for stem in job.stem_list:
        assert stem["key"] == stem_key(job.pk, stem["name"])
        with default_storage.open(stem["key"], "rb") as handle:
            assert handle.read(4) == b"fLaC"
    sources = {stem["name"]: stem["source"] for stem in job.stem_list}
    assert sources == {"vocals": "model", "drums": "dsp", "bass": "dsp", "other": "dsp"}
    assert (job.channels, job.sample_rate) == (2, 44100)
    assert Transfer.objects.get(kind="capture", job_ref=job.job_ref).amount == 3
    usage = FeatureUsage.objects.get(job_ref=job.job_ref)
    assert (usage.feature, usage.quantity, usage.unit) == ("stem_separation", 6, "audio_seconds")
    assert CreditAccount.objects.get(user=user).available == 7


def test_a_corrupt_input_fails_with_its_code_and_releases_the_credits(user: User) -> None:
    give_credits(user, 10)
    media = MediaFileFactory.create(
        owner=user, audio_bytes=b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 400
    )
    job = _run(stem_separation_job_create(user=user, media_public_id=media.public_id))
    assert job.status == "failed"
    assert job.error_code in {"undecodable_audio", "unsupported_audio"}
    assert job.error_message
    assert job.stems is None
    assert Transfer.objects.filter(kind="release", job_ref=job.job_ref).count() == 1
    assert not Transfer.objects.filter(kind="capture").exists()
    assert CreditAccount.objects.get(user=user).available == 10
    assert not any(default_storage.exists(stem_key(job.pk, name)) for name in NAMES)


def test_the_sweep_fails_a_job_whose_worker_died_and_removes_what_it_left(user: User) -> None:
    give_credits(user, 10)
    job = stem_separation_job_create(user=user, media_public_id=backing_media(user).public_id)
    # A worker claimed it, uploaded one stem, and died: no heartbeat since long ago.
    long_ago = timezone.now() - timedelta(hours=1)
    StemSeparationJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, started_at=long_ago, heartbeat_at=long_ago
    )
    default_storage.save(stem_key(job.pk, "vocals"), ContentFile(b"fLaC half"))
    report = stem_separation_jobs_sweep()
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code in {"engine_crash", "timeout"}
    assert report["files_purged"] == 1
    assert not default_storage.exists(stem_key(job.pk, "vocals"))
    assert job.files_deleted_at is not None
    assert CreditAccount.objects.get(user=user).available == 10
    assert not Transfer.objects.filter(kind="capture").exists()
