from __future__ import annotations

import pytest
from django.test import Client

from webhooks.models import WebhookEndpoint

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("private_networks_allowed", "eager_tasks"),
]


@pytest.fixture
def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_account_page_links_to_webhooks(browser):
    page = browser.get("/account/").content.decode()
    assert 'href="/account/webhooks/"' in page


def test_an_endpoint_added_on_the_page_shows_its_secret_once(browser, receiver):
    response = browser.post(
        "/account/webhooks/", {"url": receiver.url, "events": ["analysis.succeeded"]}
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    detail = browser.get(f"/account/webhooks/{endpoint.public_id}/").content.decode()
    assert endpoint.secret not in detail


def test_a_private_url_is_refused_on_the_page(browser, settings):
    settings.PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = browser.post(
        "/account/webhooks/", {"url": "http://169.254.169.254/", "events": ["credits.low"]}
    )
    assert response.status_code == 422
    assert "not a public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_attempts_and_redelivers(
    browser, receiver, django_capture_on_commit_callbacks
):
    browser.post("/account/webhooks/", {"url": receiver.url, "events": ["credits.low"]})
    endpoint = WebhookEndpoint.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(f"/account/webhooks/{endpoint.public_id}/test/").status_code == 302
    delivery = endpoint.deliveries.get()
    page = browser.get(f"/account/webhooks/{endpoint.public_id}/").content.decode()
    assert delivery.message_id in page
    assert "#1" in page
    assert "ms" in page
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(
            f"/account/webhooks/{endpoint.public_id}/deliveries/{delivery.public_id}/redeliver/"
        )
    assert len(receiver.received) == 2
    rotated = browser.post(f"/account/webhooks/{endpoint.public_id}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()


def test_another_users_endpoint_page_is_not_found(browser, other_user):
    endpoint = WebhookEndpoint.objects.create(
        owner=other_user, url="http://127.0.0.1:9/", events=["credits.low"], secret="whsec_AA=="
    )
    assert browser.get(f"/account/webhooks/{endpoint.public_id}/").status_code == 404
    assert browser.post(f"/account/webhooks/{endpoint.public_id}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
