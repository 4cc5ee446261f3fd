"""Start-up refusals: settings a production process must not run with.

Each check writes one line naming the variable and exits, because a one-line message is what
an operator needs in a crash-looping log; a traceback from deep inside Django's settings
loader would hide it. Imported by the settings module only, before Django is set up.
"""

from __future__ import annotations

import ipaddress
import sys

DEVELOPMENT_SECRET_KEY = "django-insecure-phonoglyph-development-only"  # noqa: S105  # refused without DEBUG
KNOWN_INSECURE_SECRET_KEYS = frozenset(
    {"", "changeme", "change-me", "secret", DEVELOPMENT_SECRET_KEY}
)
MIN_SECRET_KEY_LENGTH = 50


def refuse_to_start(variable: str, reason: str) -> None:
    sys.stderr.write(f"phonoglyph: refusing to start with DEBUG=false: {variable} {reason}\n")
    raise SystemExit(1)


def refuse_insecure_production(*, secret_key: str, allowed_hosts: list[str]) -> None:
    """Exit unless the secret key is long, random-looking and not a known default, and some
    host is allowed."""
    if secret_key in KNOWN_INSECURE_SECRET_KEYS or secret_key.startswith("django-insecure"):
        refuse_to_start("SECRET_KEY", "is missing or a known default")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        refuse_to_start("SECRET_KEY", f"must be at least {MIN_SECRET_KEY_LENGTH} random characters")
    if not allowed_hosts:
        refuse_to_start("ALLOWED_HOSTS", "is empty")


def refuse_bad_networks(variable: str, networks: list[str]) -> None:
    """Exit when an entry of `networks` is neither an address nor a CIDR network."""
    for network in networks:
        try:
            ipaddress.ip_network(network.strip(), strict=False)
        except ValueError:
            sys.stderr.write(f"phonoglyph: {variable}: {network!r} is not an address\n")
            raise SystemExit(1) from None
