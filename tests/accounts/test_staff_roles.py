"""`createuser --staff` gives a working admin: every model to view, Pipeline health, alerts."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.roles import STAFF_GROUP_NAME
from monitoring.models import Alert, AlertRule, AlertState

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/monitoring/alert/pipeline-health/"


def _createuser(email: str, *flags: str) -> Client:
    call_command("createuser", email, *flags, stdout=io.StringIO())
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _firing_alert() -> Alert:
    now = timezone.now()
    rule = AlertRule.objects.create(
        name="Queue backed up", metric="queue_depth", threshold=5, severity="high"
    )
    return Alert.objects.create(
        rule=rule,
        fingerprint="f" * 64,
        service="queues",
        severity="high",
        state=AlertState.FIRING,
        value=7,
        summary="Queue backed up",
        pending_since=now,
        fired_at=now,
        last_seen=now,
    )


def test_a_staff_user_sees_every_admin_model_and_the_pipeline_health_link() -> None:
    client = _createuser("ops@example.com", "--staff")

    index = client.get("/admin/").content.decode()

    assert "have permission to view or edit anything" not in index
    assert DASHBOARD in index
    registered = [model for model in apps.get_models() if model in _admin_registry()]
    assert registered
    for model in registered:
        changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert changelist in index
        assert client.get(changelist).status_code == 200
    assert client.get(DASHBOARD).status_code == 200


def test_a_staff_user_acknowledges_then_resolves_an_alert_from_pipeline_health() -> None:
    client = _createuser("ops@example.com", "--staff")
    alert = _firing_alert()

    acknowledged = client.post(f"/admin/monitoring/alert/{alert.pk}/acknowledge/")

    assert acknowledged.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_by == User.objects.get(email="ops@example.com")
    assert client.post(f"/admin/monitoring/alert/{alert.pk}/resolve/").status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_a_staff_user_cannot_change_users_or_rules() -> None:
    client = _createuser("ops@example.com", "--staff")
    other = User.objects.create_user(email="someone@example.com")

    page = client.get(f"/admin/accounts/user/{other.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert client.get("/admin/monitoring/alertrule/add/").status_code == 403


def test_a_user_without_the_group_cannot_act_on_alerts() -> None:
    client = _createuser("ops@example.com", "--staff")
    User.objects.filter(email="ops@example.com").get().groups.clear()
    alert = _firing_alert()

    assert client.post(f"/admin/monitoring/alert/{alert.pk}/acknowledge/").status_code == 403
    assert client.get(DASHBOARD).status_code == 403


def test_a_superuser_may_do_everything() -> None:
    client = _createuser("root@example.com", "--superuser")

    user = User.objects.get(email="root@example.com")
    assert user.is_staff
    assert user.is_superuser
    assert client.get("/admin/monitoring/alertrule/add/").status_code == 200


def test_the_staff_group_is_made_once_however_many_staff_users_there_are() -> None:
    _createuser("one@example.com", "--staff")
    _createuser("two@example.com", "--staff")

    group = Group.objects.get(name=STAFF_GROUP_NAME)
    assert group.user_set.count() == 2
    assert group.permissions.filter(codename="change_alert").exists()
    assert not group.permissions.filter(codename="change_user").exists()


def test_staff_and_superuser_are_exclusive() -> None:
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("createuser", "x@example.com", "--staff", "--superuser")


def _admin_registry() -> set[type]:
    from django.contrib import admin

    return set(admin.site._registry)
