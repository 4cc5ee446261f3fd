"""The header counts unread notifications; the list opens them (read) and marks all read."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.models import Notification
from tests.notifications.conftest import end_analysis, running_analysis

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _notified(user: User, capture, *, name: str = "groove.wav", failed: bool = False):
    job = running_analysis(user, name=name)
    end_analysis(job, failed=failed, capture=capture)
    return Notification.objects.get(job_id=job.pk, job_kind="analysis")


def _header_count(html: str) -> str:
    """The header link's text as a screen reader says it, "hidden" without a count."""
    match = re.search(r'id="notifications-link"[^>]*>(.*?)</a>', html, re.S)
    assert match is not None
    if "data-notifications-count hidden" in match.group(1):
        return "hidden"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def test_the_header_counts_unread_notifications_in_words_a_screen_reader_says(
    user: User, django_capture_on_commit_callbacks
):
    client = _client(user)
    assert _header_count(client.get("/dashboard/").content.decode()) == "hidden"

    _notified(user, django_capture_on_commit_callbacks, name="a.wav")
    _notified(user, django_capture_on_commit_callbacks, name="b.wav", failed=True)
    html = client.get("/dashboard/").content.decode()
    assert _header_count(html) == "Notifications 2 unread"
    # On a phone the navigation folds behind the Menu button, which carries the count too.
    menu = re.search(r'<button type="button" class="menu-toggle[^>]*>(.*?)</button>', html, re.S)
    assert menu is not None
    assert " ".join(re.sub(r"<[^>]+>", "", menu.group(1)).split()) == "Menu 2 unread notifications"


def test_the_list_shows_the_newest_first_and_opening_one_marks_it_read_and_goes_to_the_job(
    user: User, django_capture_on_commit_callbacks
):
    older = _notified(user, django_capture_on_commit_callbacks, name="first.wav")
    newer = _notified(user, django_capture_on_commit_callbacks, name="second.wav", failed=True)
    client = _client(user)

    html = client.get(reverse("notifications:list")).content.decode()
    assert html.index("Analysis of second.wav failed") < html.index(
        "Analysis of first.wav finished"
    )
    assert html.count("Unread</span>") == 2

    opened = client.get(reverse("notifications:open", args=[older.pk]))
    assert opened.status_code == 302
    assert opened["Location"] == older.link
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.read_at is not None
    assert newer.read_at is None
    assert _header_count(client.get("/dashboard/").content.decode()) == "Notifications 1 unread"


def test_mark_all_read_clears_the_count(user: User, django_capture_on_commit_callbacks):
    _notified(user, django_capture_on_commit_callbacks, name="a.wav")
    _notified(user, django_capture_on_commit_callbacks, name="b.wav")
    client = _client(user)

    response = client.post(reverse("notifications:mark-all-read"), follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert _header_count(client.get("/dashboard/").content.decode()) == "hidden"


def test_another_users_notification_is_not_found_and_stays_unread(
    user: User, other_user: User, django_capture_on_commit_callbacks
):
    theirs = _notified(other_user, django_capture_on_commit_callbacks, name="private.wav")
    client = _client(user)

    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert "private.wav" not in client.get(reverse("notifications:list")).content.decode()
    client.post(reverse("notifications:mark-all-read"))
    status = client.get(reverse("notifications:status"), {"after": 0}).json()
    assert status == {"unread": 0, "latest_id": 0, "new": []}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_poll_reports_the_count_and_the_unread_ones_after_what_the_page_saw(
    user: User, django_capture_on_commit_callbacks
):
    client = _client(user)
    first = _notified(user, django_capture_on_commit_callbacks, name="a.wav")
    assert client.get(reverse("notifications:status")).json() == {
        "unread": 1,
        "latest_id": first.pk,
        "new": [],
    }

    second = _notified(user, django_capture_on_commit_callbacks, name="b.wav", failed=True)
    response = client.get(reverse("notifications:status"), {"after": first.pk})
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["unread"] == 2
    assert body["latest_id"] == second.pk
    assert [(item["id"], item["title"], item["outcome"], item["url"]) for item in body["new"]] == [
        (
            second.pk,
            "Analysis of b.wav failed",
            "failed",
            reverse("notifications:open", args=[second.pk]),
        )
    ]


@pytest.mark.parametrize("after", ["-1", "x", "1.5"])
def test_the_poll_refuses_a_malformed_after_with_a_problem(user: User, after: str):
    response = _client(user).get(reverse("notifications:status"), {"after": after})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"


def test_the_poll_answers_401_when_signed_out(client: Client):
    response = client.get(reverse("notifications:status"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_pages_need_a_log_in(client: Client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]
