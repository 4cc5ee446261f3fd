"""With Redis unreachable, uploads keep working and stay limited per process."""

from __future__ import annotations

from media.models import MediaFile


def test_uploads_work_and_stay_limited_while_the_cache_is_down(
    unreachable_redis, settings, upload, audio, user
):
    settings.PHONOGLYPH_UPLOADS_PER_HOUR = 2

    statuses = [upload("tone.wav", audio["wav"]).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert MediaFile.objects.filter(owner=user, status=MediaFile.Status.READY).count() == 2
