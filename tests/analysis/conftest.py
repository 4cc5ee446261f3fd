from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.services import analysis_job_create, analysis_job_run
from billing.services import credits_grant
from tests.analysis.factories import MediaFileFactory


@pytest.fixture(autouse=True)
def _private_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def give_credits(user: User, amount: int = 100) -> None:
    credits_grant(user=user, amount=amount, reason="test credits")


def succeeded_job(user: User) -> AnalysisJob:
    """A job of every feature on a fresh upload of `user`'s, run by the real engine."""
    give_credits(user)
    job = analysis_job_create(
        user=user, media_public_id=MediaFileFactory.create(owner=user).public_id, features=None
    )
    analysis_job_run(job_id=job.pk, worker_host="worker-a")
    return AnalysisJob.objects.get(pk=job.pk)
