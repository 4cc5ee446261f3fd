"""Email on a job's end is opt-in on the account page, goes to the owner alone, links the job."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.models import Notification
from tests.notifications.conftest import (
    end_analysis,
    end_separation,
    running_analysis,
    running_separation,
)

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _opt(client: Client, *, on: bool) -> str:
    data = {"next": "/account/"}
    if on:
        data["email_on_job_end"] = "on"
    response = client.post(reverse("notifications:email-preference"), data, follow=True)
    assert response.redirect_chain[-1][0] == "/account/"
    return response.content.decode()


def test_no_email_is_sent_unless_the_owner_opted_in(user: User, django_capture_on_commit_callbacks):
    page = _client(user).get("/account/").content.decode()
    assert 'name="email_on_job_end" id="id_email_on_job_end">' in page

    end_analysis(running_analysis(user), failed=False, capture=django_capture_on_commit_callbacks)
    assert Notification.objects.filter(owner=user).count() == 1
    assert mail.outbox == []


def test_an_opted_in_owner_is_mailed_on_finish_and_failure_with_a_link_to_the_job(
    user: User, settings, django_capture_on_commit_callbacks
):
    settings.PHONOGLYPH_PUBLIC_URL = "https://phonoglyph.example"
    client = _client(user)
    page = _opt(client, on=True)
    assert "We will email you when one of your jobs ends." in page
    assert 'id="id_email_on_job_end" checked>' in page

    analysis = running_analysis(user, name="groove.wav")
    end_analysis(analysis, failed=False, capture=django_capture_on_commit_callbacks)
    separation = running_separation(user, name="song.flac")
    end_separation(separation, failed=True, capture=django_capture_on_commit_callbacks)

    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([user.email], "Analysis of groove.wav finished"),
        ([user.email], "Stem separation of song.flac failed"),
    ]
    assert f"https://phonoglyph.example/analyses/{analysis.public_id}/" in mail.outbox[0].body
    assert "The results are ready." in mail.outbox[0].body
    assert f"https://phonoglyph.example/stems/{separation.public_id}/" in mail.outbox[1].body
    assert "No credits were charged." in mail.outbox[1].body


def test_turning_email_off_again_stops_the_mails(user: User, django_capture_on_commit_callbacks):
    client = _client(user)
    _opt(client, on=True)
    page = _opt(client, on=False)
    assert "We will not email you when your jobs end." in page

    end_analysis(running_analysis(user), failed=True, capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_one_owners_opt_in_mails_nobody_about_anothers_job(
    user: User, other_user: User, django_capture_on_commit_callbacks
):
    _opt(_client(user), on=True)
    end_analysis(
        running_analysis(other_user), failed=False, capture=django_capture_on_commit_callbacks
    )
    assert mail.outbox == []

    end_analysis(running_analysis(user), failed=False, capture=django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_an_unreachable_mail_server_is_a_warning_and_the_notification_stays_on_the_site(
    user: User, settings, caplog, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    settings.EMAIL_TIMEOUT = 2
    _opt(_client(user), on=True)
    caplog.clear()

    end_analysis(running_analysis(user), failed=False, capture=django_capture_on_commit_callbacks)
    assert Notification.objects.filter(owner=user).count() == 1
    # Told apart from a listener's crash, which the job layer reports as an error.
    warnings = [record for record in caplog.records if record.levelname != "INFO"]
    assert [(record.name, record.levelname) for record in warnings] == [
        ("notifications.services", "WARNING")
    ]
