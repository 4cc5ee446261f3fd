"""The sample track: uploaded like any file, analysed for real, free of charge, once per account."""

from __future__ import annotations

import fnmatch
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.sample import SAMPLE_TRACK, sample_track_sha256
from analysis.services import SampleTrackStart, analysis_sample_track_start
from billing.models import FeatureUsage, Transfer
from billing.selectors import credit_balance_for_user
from media.errors import QuotaExceeded
from media.models import MediaFile
from tests.analysis.conftest import give_credits
from tests.analysis.factories import AnalysisJobFactory
from tests.factories import UserFactory
from tests.support.workers import Worker, wait_for, worker_start

pytestmark = pytest.mark.django_db


def test_the_bundled_recording_ships_with_its_credits() -> None:
    assert SAMPLE_TRACK.path.is_file()
    credits = (SAMPLE_TRACK.path.parent / "CREDITS.md").read_text()
    assert "CC BY 4.0" in credits
    assert "GuitarSet" in SAMPLE_TRACK.credit
    assert "CC BY 4.0" in SAMPLE_TRACK.credit


def test_an_installed_package_carries_the_recording_and_its_credits() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["analysis"]
    package = SAMPLE_TRACK.path.parents[1]

    for bundled in (SAMPLE_TRACK.path, SAMPLE_TRACK.path.parent / "CREDITS.md"):
        relative = bundled.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_the_sample_track_becomes_one_of_the_users_files_and_an_analysis_of_every_feature(
    user: User,
) -> None:
    start = analysis_sample_track_start(user=user)

    assert start.started
    media = MediaFile.objects.get(owner=user)
    assert media.status == MediaFile.Status.READY
    assert media.sha256 == sample_track_sha256()
    assert media.container == "flac"
    assert media.duration_seconds == pytest.approx(22.3, abs=0.1)
    assert media.display_name == SAMPLE_TRACK.display_name
    job = start.job
    assert job.media_id == media.pk
    assert job.is_sample_track
    assert job.status == AnalysisJob.Status.QUEUED
    assert "tempo" in job.features
    assert "key" in job.features


def test_the_sample_analysis_reserves_nothing_and_posts_nothing(user: User) -> None:
    give_credits(user, 10)

    job = analysis_sample_track_start(user=user).job

    assert job.credits_reserved == 0
    assert credit_balance_for_user(user=user).available == 10
    assert credit_balance_for_user(user=user).reserved == 0
    assert not Transfer.objects.filter(job_ref=job.job_ref).exists()


def test_an_account_without_credits_can_still_try_the_sample_track(user: User) -> None:
    assert credit_balance_for_user(user=user).available == 0

    assert analysis_sample_track_start(user=user).started


def test_a_second_try_returns_the_first_sample_analysis(user: User) -> None:
    first = analysis_sample_track_start(user=user)

    second = analysis_sample_track_start(user=user)

    assert not second.started
    assert second.job.pk == first.job.pk
    assert MediaFile.objects.filter(owner=user).count() == 1
    assert AnalysisJob.objects.filter(owner=user).count() == 1


def test_a_failed_sample_analysis_may_be_tried_again_still_free(user: User) -> None:
    first = analysis_sample_track_start(user=user).job
    AnalysisJob.objects.filter(pk=first.pk).update(status=AnalysisJob.Status.FAILED)

    again = analysis_sample_track_start(user=user)

    assert again.started
    assert again.job.pk != first.pk
    assert analysis_sample_track_start(user=user).job.pk == again.job.pk
    assert not Transfer.objects.filter(debit_account__user=user).exists()


def test_each_account_gets_its_own_sample_analysis(user: User, other_user: User) -> None:
    mine = analysis_sample_track_start(user=user).job
    theirs = analysis_sample_track_start(user=other_user).job

    assert mine.pk != theirs.pk
    assert theirs.owner_id == other_user.pk


def test_the_database_refuses_a_second_sample_analysis_for_one_account(user: User) -> None:
    analysis_sample_track_start(user=user)

    with pytest.raises(IntegrityError), transaction.atomic():
        AnalysisJobFactory.create(media__owner=user, is_sample_track=True)


def test_a_refused_upload_leaves_no_sample_analysis_and_the_user_may_try_again(
    user: User, settings: Any
) -> None:
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 1000

    with pytest.raises(QuotaExceeded):
        analysis_sample_track_start(user=user)

    assert not AnalysisJob.objects.filter(owner=user).exists()
    assert not MediaFile.objects.filter(owner=user).exists()
    settings.PHONOGLYPH_USER_QUOTA_BYTES = 100 * 1024 * 1024
    assert analysis_sample_track_start(user=user).started


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_tries_make_one_sample_analysis(postgres_url: str) -> None:
    user = UserFactory.create()
    results: list[SampleTrackStart] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def try_sample() -> None:
        try:
            barrier.wait()
            results.append(analysis_sample_track_start(user=user))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=try_sample) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(result.started for result in results) == [False, True]
    assert results[0].job.pk == results[1].job.pk
    assert MediaFile.objects.filter(owner=user).count() == 1
    assert AnalysisJob.objects.filter(owner=user).count() == 1


@pytest.fixture
def analysis_worker(
    postgres_url: str, redis_url: str, settings: Any, tmp_path: Path
) -> Iterator[Worker]:
    redis.Redis.from_url(redis_url).flushdb()
    worker = worker_start(
        name="sample-track",
        queue_name="analysis",
        also_queues=["celery"],
        log_dir=tmp_path,
        database=True,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    yield worker
    worker.stop()
    redis.Redis.from_url(redis_url).flushdb()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_analyses_the_sample_track_and_charges_nothing(
    analysis_worker: Worker,
) -> None:
    user = UserFactory.create()
    give_credits(user, 5)

    job = analysis_sample_track_start(user=user).job
    wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).exists(),
        timeout=180,
        what=f"the sample analysis to end\n{analysis_worker.output()}",
    )

    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message
    # GuitarSet's annotation: 129 BPM in E-flat major; a tracker may settle on half or double.
    assert job.result is not None
    assert job.result["tempo"]["bpm"] == pytest.approx(129, rel=0.06) or job.result["tempo"][
        "bpm"
    ] == pytest.approx(64.5, rel=0.06)
    assert job.result["duration"] == pytest.approx(22.3, abs=0.1)
    assert credit_balance_for_user(user=user).available == 5
    assert not Transfer.objects.filter(job_ref=job.job_ref).exists()
    assert not FeatureUsage.objects.filter(job_ref=job.job_ref, cost__gt=0).exists()
