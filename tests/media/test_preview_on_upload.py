"""Every accepted upload gets its playable preview from a worker, analysed or not; a preview
that cannot be made leaves the upload standing and its page saying so."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from analysis.models import AnalysisJob
from engine.decode import ffmpeg_executable
from media.models import MediaFile
from media.preview import media_preview_make
from media.tasks import media_preview_make as media_preview_make_task
from tests.browser.conftest import _use_broker
from tests.factories import DEFAULT_PASSWORD
from tests.media.audio import UPLOAD_EXTENSIONS
from tests.media.conftest import MediaDirs, files_under, multipart
from tests.support.workers import Worker, wait_for

# An address nothing listens on: publishing there fails at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:9/0"


def _key(created: dict[str, Any]) -> int:
    """The internal key the preview task is given for the upload the API answered with."""
    return MediaFile.objects.get(public_id=created["id"]).pk


def _decoded_seconds(path: Path) -> float:
    done = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    stamp = [line for line in done.stderr.splitlines() if "time=" in line][-1]
    hours, minutes, seconds = stamp.split("time=")[1].split()[0].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _stream_body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _logged_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=DEFAULT_PASSWORD)
    return client


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_accepted_format_gets_a_preview_without_being_analysed(
    preview_worker: Worker,
    api_client: APIClient,
    upload,
    audio,
    user,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.PHONOGLYPH_UPLOADS_PER_HOUR = len(UPLOAD_EXTENSIONS) + 1
    media_ids = {}
    for extension in UPLOAD_EXTENSIONS:
        response = upload(f"tone.{extension}", audio[extension])
        assert response.status_code == 201, response.content
        assert response.json()["preview_status"] == "pending"
        media_ids[extension] = response.json()["id"]
    # The plain upload form queues the preview too.
    client = _logged_in(user)
    body, content_type = multipart("form.aiff", audio["aiff"])
    page = client.generic("POST", "/media/upload/", body, content_type=content_type)
    assert page.status_code == 302
    media_ids["form.aiff"] = str(MediaFile.objects.get(display_name="form.aiff").public_id)

    wait_for(
        lambda: (
            MediaFile.objects.filter(
                public_id__in=media_ids.values(), preview_status="ready"
            ).count()
            == len(media_ids)
        ),
        timeout=120,
        what=f"every preview\n{preview_worker.output()}",
    )

    assert AnalysisJob.objects.count() == 0
    for name, media_id in media_ids.items():
        detail = api_client.get(f"/api/v1/media/{media_id}/").json()
        assert detail["preview_url"] == f"/api/v1/media/{media_id}/preview/", name
        preview = api_client.get(detail["preview_url"])
        assert preview.status_code == 200, name
        assert preview["Content-Type"] == "audio/webm"
        copy = tmp_path / f"{name}.webm"
        copy.write_bytes(_stream_body(preview))
        assert _decoded_seconds(copy) == pytest.approx(1.0, abs=0.1), name


@pytest.mark.django_db
def test_the_media_page_says_the_preview_is_being_prepared_until_it_is_ready(
    upload, audio, user
) -> None:
    created = upload("tone.aiff", audio["aiff"]).json()
    client = _logged_in(user)

    waiting = client.get(f"/media/{created['id']}/").content.decode()
    media_preview_make(media_id=_key(created))
    ready = client.get(f"/media/{created['id']}/").content.decode()

    assert "Preparing a playable preview" in waiting
    assert "js/media-player.js" in waiting
    assert f"/api/v1/media/{created['id']}/preview/" not in waiting
    assert "Preparing a playable preview" not in ready
    assert f'src="/api/v1/media/{created["id"]}/preview/"' in ready


@pytest.mark.django_db
def test_a_second_delivery_of_the_task_keeps_the_one_preview(
    upload, audio, media_dirs: MediaDirs
) -> None:
    created = upload("tone.flac", audio["flac"]).json()

    assert media_preview_make_task.apply(args=(_key(created),)).successful()
    first = MediaFile.objects.get(public_id=created["id"]).preview_key
    assert media_preview_make_task.apply(args=(_key(created),)).successful()

    media = MediaFile.objects.get(public_id=created["id"])
    assert media.preview_status == "ready"
    assert media.preview_key == first
    assert len(files_under(media_dirs.media_root / "previews")) == 1


@pytest.mark.django_db
def test_audio_ffmpeg_cannot_transcode_leaves_a_failed_preview_and_a_working_page(
    upload, audio, user, media_dirs: MediaDirs
) -> None:
    created = upload("tone.wav", audio["wav"]).json()
    stored = MediaFile.objects.get(public_id=created["id"])
    # The stored object damaged after its upload was accepted: nothing decodes any more.
    (media_dirs.media_root / stored.storage_key).write_bytes(b"RIFF" + b"\0" * 64)

    assert media_preview_make_task.apply(args=(_key(created),)).successful()

    assert MediaFile.objects.get(public_id=created["id"]).preview_status == "failed"
    page = _logged_in(user).get(f"/media/{created['id']}/")
    assert page.status_code == 200
    assert "A playable preview could not be made" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_leaves_the_upload_accepted_and_its_preview_failed(
    upload, audio, user, settings: Any
) -> None:
    from phonoglyph.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER
    _use_broker(UNREACHABLE_BROKER, {"max_retries": 0})
    try:
        response = upload("tone.ogg", audio["ogg"])
    finally:
        _use_broker(*saved)

    assert response.status_code == 201, response.content
    assert MediaFile.objects.get(public_id=response.json()["id"]).preview_status == "failed"
    page = _logged_in(user).get(f"/media/{response.json()['id']}/")
    assert page.status_code == 200
    assert "A playable preview could not be made" in page.content.decode()
