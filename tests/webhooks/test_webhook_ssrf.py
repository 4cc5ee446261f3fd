"""Webhook URLs may only reach public addresses, checked at registration and every delivery."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from webhooks import transport
from webhooks.models import WebhookAttempt, WebhookEndpoint
from webhooks.services import webhook_delivery_attempt, webhook_endpoint_send_test
from webhooks.signing import secret_generate

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://127.0.0.1/hook",
    "http://0x7f000001/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0177.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://[2002:7f00:1::1]/hook",
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[fec0::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://192.0.2.1/hook",
    "http://[2001:db8::1]/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_registration_refuses_a_url_that_reaches_a_non_public_address(api_client, url):
    response = api_client.post(
        "/api/v1/webhooks/", {"url": url, "events": ["analysis.succeeded"]}, format="json"
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_url_refused"


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/hook", "http://user:pw@93.184.215.14/"])
def test_registration_refuses_other_schemes_and_credentials(api_client, url):
    response = api_client.post(
        "/api/v1/webhooks/", {"url": url, "events": ["analysis.succeeded"]}, format="json"
    )
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_registration_accepts_a_public_address(api_client):
    response = api_client.post(
        "/api/v1/webhooks/",
        {"url": "https://93.184.215.14/hook", "events": ["analysis.succeeded"]},
        format="json",
    )
    assert response.status_code == 201


def test_a_name_resolving_to_loopback_is_refused_by_its_address():
    with pytest.raises(transport.DestinationRefused, match=r"resolves to (127\.0\.0\.1|::1)"):
        transport.url_check("http://localhost/hook")


def _endpoint(user, url):
    return WebhookEndpoint.objects.create(
        owner=user, url=url, events=["analysis.succeeded"], secret=secret_generate()
    )


def test_every_delivery_checks_the_address_again(user, receiver):
    # Registered while it was public (or before the rules changed): refused at send time.
    endpoint = _endpoint(user, receiver.url)
    delivery = webhook_endpoint_send_test(endpoint=endpoint)
    attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert attempt is not None
    assert attempt.response_status is None
    assert "not a public address" in attempt.error
    assert receiver.received == []


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_not_followed(
    user, receiver, monkeypatch
):
    from tests.webhooks.receiver import Receiver

    # 127.0.0.2 stands in for a public host on the internet (which a test cannot reach);
    # it redirects to the private receiver on 127.0.0.1.
    public = Receiver(host="127.0.0.2", status=302, redirect_to=receiver.url).start()
    stand_in = ipaddress.ip_address("127.0.0.2")
    rule = transport.address_allowed
    monkeypatch.setattr(
        transport, "address_allowed", lambda address: address == stand_in or rule(address)
    )
    try:
        endpoint = _endpoint(user, public.url)
        delivery = webhook_endpoint_send_test(endpoint=endpoint)
        attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    finally:
        public.stop()
    assert len(public.received) == 1
    assert receiver.received == []
    assert attempt is not None
    assert attempt.response_status == 302
    assert "Redirects are not followed" in attempt.error
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_the_connection_goes_to_the_address_that_was_checked(user, receiver, monkeypatch):
    """A second DNS answer (rebinding) cannot change where the checked request goes."""
    answers = iter(["127.0.0.2", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    stand_in = ipaddress.ip_address("127.0.0.2")
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(transport, "address_allowed", lambda address: address == stand_in)
    port = receiver.url.split(":")[2].split("/")[0]
    with pytest.raises(transport.DeliveryFailed):
        # Checked as 127.0.0.2, where nothing listens: the 127.0.0.1 receiver is never asked.
        transport.post(f"http://rebind.test:{port}/hook", body=b"{}", headers={})
    assert receiver.received == []
