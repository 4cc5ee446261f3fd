"""POST one signed message to a user's URL without letting the URL reach our own network.

The contract: `url_check(url)` resolves the host and refuses (DestinationRefused) when any of
its addresses is not a public unicast one: loopback, private, link-local (cloud metadata at
169.254.169.254), CGNAT (100.64/10), multicast, reserved or unspecified, IPv4 or IPv6,
IPv4 wrapped in IPv6 (::ffff:127.0.0.1, 6to4, Teredo, NAT64) included. Every spelling the
resolver accepts (`0x7f000001`, `127.1`, `2130706433`, `[::ffff:127.0.0.1]`) ends up as the
address it means, and the address is what is checked. `post(...)` checks again at send time
and connects to the very address it checked (a second DNS answer cannot swap it), sends the
Host and TLS server name of the URL, follows no redirect, and caps the time and the bytes
read. PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS lifts the address check, for development and
tests only.

Errors: DestinationRefused (the URL is not allowed; retrying cannot help unless DNS changes)
and DeliveryFailed (no usable response: connection, TLS or timeout; a retry may help).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not covered by the `is_*` properties everywhere: CGNAT (100.64/10) is "shared", not private.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The URL is not allowed as a webhook destination; `str()` says why, for its owner."""


class DeliveryFailed(Exception):
    """No usable HTTP response came back; a later attempt may succeed."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    status: int
    elapsed_ms: int
    body: bytes


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress) -> bool:
    """Whether `address` is a public unicast address (the same rule for every wrapping)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_allowed(embedded)
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return False
    return (
        not (
            address.is_loopback
            or address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        )
        and address.is_global
    )


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise DestinationRefused(f"The host {host!r} does not resolve.") from error
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DestinationRefused(f"The host {host!r} does not resolve.")
    return addresses


def url_check(url: str) -> Destination:
    """Parse and resolve `url`; raise DestinationRefused unless every address is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DestinationRefused("Only http and https URLs can receive webhooks.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("A webhook URL may not carry credentials.")
    host = parts.hostname
    if not host:
        raise DestinationRefused("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise DestinationRefused("The URL's port is not valid.") from error
    addresses = _resolve(host, port)
    if not settings.PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        for address in addresses:
            if not address_allowed(ipaddress.ip_address(address.split("%")[0])):
                raise DestinationRefused(
                    f"The host {host!r} resolves to {address}, which is not a public address."
                )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(parts.scheme, host, port, target, addresses)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is verified against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _abort(connection: http.client.HTTPConnection) -> None:
    if connection.sock is not None:
        try:
            connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Response:
    """POST `body` to `url` at the address checked now; never follows a redirect.

    Raises DestinationRefused or DeliveryFailed (see the module's contract).
    """
    destination = url_check(url)
    timeout = settings.PHONOGLYPH_WEBHOOK_TIMEOUT_SECONDS
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(
        destination.host, destination.port, address=destination.addresses[0], timeout=timeout
    )
    started = time.monotonic()
    # The socket timeout bounds each read; this bounds the whole exchange, so a receiver
    # dripping one byte at a time cannot hold a worker.
    deadline = threading.Timer(timeout, _abort, args=(connection,))
    deadline.start()
    try:
        connection.request(
            "POST",
            destination.target,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": "Phonoglyph-Webhooks/1",
            },
        )
        response = connection.getresponse()
        # Bounded by bytes and, through the socket timeout, by time per read; the rest is
        # dropped with the connection.
        content = response.read(settings.PHONOGLYPH_WEBHOOK_MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}"[:300]) from error
    finally:
        deadline.cancel()
        connection.close()
    return Response(
        status=status, elapsed_ms=round((time.monotonic() - started) * 1000), body=content
    )
