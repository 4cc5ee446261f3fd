from __future__ import annotations

from uuid import UUID

import pytest

from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_networks_allowed")]

URL = "/api/v1/webhooks/"


def _create(api_client, url="http://127.0.0.1:9/hook", events=("analysis.succeeded",)):
    return api_client.post(URL, {"url": url, "events": list(events)}, format="json")


def test_registering_an_endpoint_returns_its_secret_once(api_client):
    response = _create(api_client, events=["analysis.succeeded", "credits.low"])
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == "http://127.0.0.1:9/hook"
    assert body["events"] == ["analysis.succeeded", "credits.low"]
    assert body["secret"].startswith("whsec_")
    assert str(UUID(body["id"])) == body["id"]
    detail = api_client.get(f"{URL}{body['id']}/").json()
    assert "secret" not in detail
    assert "secret" not in api_client.get(URL).json()["results"][0]


def test_unknown_event_types_are_refused(api_client):
    response = _create(api_client, events=["analysis.exploded"])
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "events" in response.json()["errors"]


def test_stem_separation_events_can_be_subscribed_to(api_client):
    response = _create(api_client, events=["stem_separation.succeeded", "stem_separation.failed"])
    assert response.status_code == 201
    types = api_client.get(f"{URL}event-types/").json()["event_types"]
    assert {"analysis.succeeded", "analysis.failed", "credits.low"} <= set(types)


def test_an_endpoint_can_be_updated_disabled_enabled_and_deleted(api_client):
    endpoint_id = _create(api_client).json()["id"]
    changed = api_client.patch(
        f"{URL}{endpoint_id}/",
        {"events": ["analysis.failed"], "description": "ci", "enabled": False},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["analysis.failed"]
    assert changed.json()["enabled"] is False
    enabled = api_client.patch(f"{URL}{endpoint_id}/", {"enabled": True}, format="json")
    assert enabled.json()["enabled"] is True
    assert api_client.delete(f"{URL}{endpoint_id}/").status_code == 204
    assert api_client.get(f"{URL}{endpoint_id}/").status_code == 404


def test_rotating_returns_a_new_secret(api_client):
    created = _create(api_client).json()
    rotated = api_client.post(f"{URL}{created['id']}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    endpoint = WebhookEndpoint.objects.get(public_id=created["id"])
    assert endpoint.previous_secret == created["secret"]


def test_another_users_endpoint_is_not_found(api_client, other_user):
    endpoint = WebhookEndpoint.objects.create(
        owner=other_user, url="http://127.0.0.1:9/", events=["credits.low"], secret="whsec_AA=="
    )
    for response in (
        api_client.get(f"{URL}{endpoint.public_id}/"),
        api_client.delete(f"{URL}{endpoint.public_id}/"),
        api_client.post(f"{URL}{endpoint.public_id}/test/"),
        api_client.get(f"{URL}{endpoint.public_id}/deliveries/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api_client.get(URL).json()["count"] == 0
