"""A preview whose task was lost is queued again by the sweep, and given up on after a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from media.models import MediaFile
from media.tasks import media_previews_sweep
from tests.analysis.factories import MediaFileFactory
from tests.support.workers import Worker, wait_for

PENDING = MediaFile.PreviewStatus.PENDING


def _pending_since(*, minutes: float, uploaded_days_ago: float = 0) -> MediaFile:
    media = MediaFileFactory.create(preview_status=PENDING)
    now = timezone.now()
    MediaFile.objects.filter(pk=media.pk).update(
        updated_at=now - timedelta(minutes=minutes),
        created_at=now - timedelta(days=uploaded_days_ago, minutes=minutes),
    )
    return media


@pytest.mark.django_db(transaction=True)
def test_a_preview_still_pending_long_after_its_task_gets_made_once_queued_again(
    preview_worker: Worker,
) -> None:
    lost = _pending_since(minutes=45)
    waiting = _pending_since(minutes=5)

    assert media_previews_sweep() == {"requeued": 1, "given_up": 0}

    wait_for(
        lambda: MediaFile.objects.get(pk=lost.pk).preview_status == "ready",
        timeout=60,
        what=f"the lost preview\n{preview_worker.output()}",
    )
    # The sweep waits its interval again before queueing the same upload a second time.
    assert media_previews_sweep() == {"requeued": 0, "given_up": 0}
    assert MediaFile.objects.get(pk=waiting.pk).preview_status == PENDING


@pytest.mark.django_db
def test_a_preview_pending_for_a_day_is_given_up_and_its_page_offers_the_original(
    django_capture_on_commit_callbacks: Any,
) -> None:
    stale = _pending_since(minutes=45, uploaded_days_ago=1)

    with django_capture_on_commit_callbacks(execute=False) as published:
        assert media_previews_sweep() == {"requeued": 0, "given_up": 1}

    assert published == []
    assert MediaFile.objects.get(pk=stale.pk).preview_status == "failed"
