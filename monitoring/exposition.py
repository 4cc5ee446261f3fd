"""The `/metrics` endpoint: Prometheus text exposition behind a token or an address allow-list.

Access: with `PHONOGLYPH_METRICS_TOKEN` set a caller must send `Authorization: Bearer <token>`;
with `PHONOGLYPH_METRICS_ALLOWED_IPS` set (addresses or CIDR networks) the peer address must be
in it; with both set both must hold; with neither, only loopback callers are answered. The peer
address is REMOTE_ADDR: a forwarded-for header is not trusted here because anyone can send it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from core.api.exceptions import problem_response
from telemetry.metrics import QUEUE_DEPTH_METRIC, host_registry

logger = logging.getLogger(__name__)

# A scrape must answer even when the broker hangs; Prometheus times out at 10 s by default.
QUEUE_DEPTH_TIMEOUT_SECONDS = 2.0

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class QueueDepthCollector(Collector):
    """Read the depth of each Celery queue from the broker at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from monitoring.health import queue_depths, run_bounded

        try:
            depths = run_bounded(queue_depths, timeout=QUEUE_DEPTH_TIMEOUT_SECONDS)
        except Exception as error:
            # No gauge is better than a made-up zero: the absence is itself visible.
            logger.warning("queue depth not collected: %s", error)
            return
        family = GaugeMetricFamily(
            QUEUE_DEPTH_METRIC, "Messages waiting in each Celery queue.", labels=["queue"]
        )
        for queue, depth in sorted(depths.items()):
            family.add_metric([queue], depth)
        yield family


def render_metrics() -> bytes:
    """Return the exposition text of every metric of this host's processes."""
    body = generate_latest(host_registry())
    scrape_time = CollectorRegistry()
    scrape_time.register(QueueDepthCollector())
    return body + generate_latest(scrape_time)


def _allowed_networks() -> list[IpNetwork]:
    return [
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in settings.PHONOGLYPH_METRICS_ALLOWED_IPS
        if entry.strip()
    ]


def _peer_in(request: HttpRequest, networks: list[IpNetwork]) -> bool:
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in networks)


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


def refusal(request: HttpRequest) -> HttpResponse | None:
    """Return the response refusing this caller, or None when it may read the metrics."""
    token = settings.PHONOGLYPH_METRICS_TOKEN
    networks = _allowed_networks()
    if token and not _bearer_matches(request, token):
        return problem_response(
            request,
            status=401,
            code="not_authenticated",
            detail="The metrics need a bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if networks and not _peer_in(request, networks):
        return problem_response(
            request, status=403, code="permission_denied", detail="Address not allowed."
        )
    loopback = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    if not token and not networks and not _peer_in(request, loopback):
        return problem_response(
            request,
            status=403,
            code="permission_denied",
            detail="Metrics are served to loopback only until a token or allow-list is set.",
        )
    return None


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve the Prometheus metrics to an authorised scraper."""
    refused = refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
