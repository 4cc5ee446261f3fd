"""Product events reach PostHog (a loopback server standing in for the host) without PII."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any, get_args

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from analysis.models import AnalysisJob
from analysis.tasks import analysis_job_run
from media.models import MediaFile
from telemetry import analytics
from telemetry.reporting import ProductEvent, emit_event
from tests.analysis.audio import click_track_with_chord
from tests.analysis.conftest import give_credits
from tests.support.audio import write_wav
from tests.support.servers import RecordingServer
from tests.support.signup import sign_up_and_confirm

pytestmark = pytest.mark.django_db

SECRET_FILE_NAME = "my-unreleased-demo-track"


def _events(server: RecordingServer, *names: str) -> list[dict[str, Any]]:
    analytics.flush(timeout_seconds=10)
    server.wait_for(lambda s: {e["event"] for e in s.posthog_events()} >= set(names), timeout=10)
    return server.posthog_events()


@pytest.fixture
def private_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_upload_and_analysis_send_their_events_without_file_names_or_emails(
    posthog_server: RecordingServer,
    private_media_root: None,
    api_client: APIClient,
    user: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    wav = write_wav(tmp_path / f"{SECRET_FILE_NAME}.wav", click_track_with_chord(seconds=4.0))
    with wav.open("rb") as handle:
        upload = api_client.post(reverse("api:media-list"), {"file": handle}, format="multipart")
    assert upload.status_code == 201, upload.content
    give_credits(user)
    with django_capture_on_commit_callbacks(execute=False):
        started = api_client.post(
            reverse("api:analysis-list"), {"media": upload.json()["id"]}, format="json"
        )
    assert started.status_code == 202, started.content
    analysis_job_run.apply(args=(AnalysisJob.objects.get(public_id=started.json()["id"]).pk,))

    events = _events(
        posthog_server,
        "media_uploaded",
        "analysis_started",
        "analysis_completed",
        "api_call_success",
    )
    by_name = {event["event"]: event for event in events}
    uploaded = by_name["media_uploaded"]
    assert uploaded["distinct_id"] == str(user.pk)
    assert (
        uploaded["properties"]["media_id"]
        == MediaFile.objects.get(public_id=upload.json()["id"]).pk
    )
    assert uploaded["properties"]["size_bytes"] == wav.stat().st_size
    assert (
        by_name["analysis_completed"]["properties"]["job_id"]
        == AnalysisJob.objects.get(public_id=started.json()["id"]).pk
    )
    routes = {e["properties"]["route"] for e in events if e["event"] == "api_call_success"}
    assert {"api:media-list", "api:analysis-list"} <= routes
    body = json.dumps([r.body.decode() for r in posthog_server.received])
    assert SECRET_FILE_NAME not in body
    assert user.email not in body
    assert all(r.json()["api_key"] == "phc_testproject" for r in posthog_server.received)


def test_a_confirmed_sign_up_sends_user_signed_up_for_the_new_user_id(
    posthog_server: RecordingServer, client: Any
) -> None:
    sign_up_and_confirm(client, "new.person@example.org", "a-long-enough-passphrase-42")
    new_user = User.objects.get(email="new.person@example.org")

    events = _events(posthog_server, "user_signed_up")
    signed_up = next(e for e in events if e["event"] == "user_signed_up")
    assert signed_up["distinct_id"] == str(new_user.pk)
    assert "new.person@example.org" not in json.dumps(events)


def test_undeclared_properties_never_leave_the_process(
    posthog_server: RecordingServer, user: User
) -> None:
    emit_event(
        "media_rejected",
        user_id=user.pk,
        properties={"code": "unsupported_format", "file_name": "secret.wav", "email": user.email},
    )
    rejected = next(
        e for e in _events(posthog_server, "media_rejected") if e["event"] == "media_rejected"
    )
    assert rejected["properties"]["code"] == "unsupported_format"
    assert "file_name" not in rejected["properties"]
    assert "email" not in rejected["properties"]


def test_api_calls_succeed_quickly_while_the_posthog_host_is_down(
    settings: Any, api_client: APIClient
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    analytics.shutdown()
    settings.POSTHOG_API_KEY = "phc_testproject"
    settings.POSTHOG_HOST = f"http://127.0.0.1:{closed_port}"
    try:
        started = time.perf_counter()
        statuses = [api_client.get(reverse("api:me")).status_code for _ in range(20)]
        elapsed = time.perf_counter() - started
        analytics.flush(timeout_seconds=0.5)
    finally:
        analytics.shutdown()
    assert statuses == [200] * 20
    # Generous bound: sending happens on posthog's own thread, never in the request.
    assert elapsed < 5.0


def test_a_forked_worker_process_sends_its_events_with_its_own_client(
    posthog_server: RecordingServer, user: User
) -> None:
    emit_event("media_deleted", user_id=user.pk, properties={"media_id": 1})
    parent_client = analytics._get_client()

    pid = os.fork()
    if pid == 0:
        # Child: what a gunicorn worker or a Celery prefork child does after the fork.
        code = 1
        try:
            emit_event("media_deleted", user_id=user.pk, properties={"media_id": 2})
            if analytics._get_client() is not parent_client:
                analytics.flush(timeout_seconds=10)
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    analytics.flush(timeout_seconds=10)
    posthog_server.wait_for(lambda s: len(s.posthog_events()) >= 2)
    media_ids = sorted(e["properties"]["media_id"] for e in posthog_server.posthog_events())
    assert media_ids == [1, 2]


def test_every_catalogued_event_declares_its_properties() -> None:
    assert set(get_args(ProductEvent)) == set(analytics.EVENT_PROPERTIES)
    declared = set().union(*analytics.EVENT_PROPERTIES.values())
    assert not declared & {"email", "file_name", "filename", "name", "title", "key", "password"}
