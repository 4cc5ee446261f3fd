"""The separation page's poll: the engine's stages in plain words."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.notifications.conftest import running_separation

pytestmark = pytest.mark.django_db


def test_a_running_separation_reports_its_stage_in_words_to_its_owner_only(
    user: User, other_user: User
):
    job = running_separation(user)
    job.stage = "separating"
    job.progress = 50
    job.save()
    url = reverse("stems:job-progress", args=[job.public_id])
    owner = Client()
    owner.force_login(user)

    body = owner.get(url).json()
    assert body["status"] == "running"
    assert body["stage_words"] == "Separating the instruments"
    assert body["percent"] == 50
    # Five seconds in, half done: the rate so far says five more.
    assert body["seconds_left"] == 5
    assert body["time_left_basis"] == "this_job"

    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(url).status_code == 404
    page = owner.get(reverse("stems:job-detail", args=[job.public_id])).content.decode()
    assert 'src="/static/js/job-progress.js"' in page
