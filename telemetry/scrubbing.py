"""What every Sentry event goes through before it leaves the process: no secrets, no uploads.

Kept free of Django, so the process that sends traced requests' transactions
(`telemetry.trace_relay`) scrubs them by the same rules without loading the application.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

# Where bodies are someone's audio: never kept, never reported.
UPLOAD_PATH_PREFIXES = ("/api/v1/media/", "/media/")

FILTERED = "[Filtered]"

# Keys (any nesting level, compared lower-cased) whose values never leave the process.
PRODUCT_DENYLIST = [
    "x-api-key",
    "api-key",
    "key",
    "raw_key",
    "api_key_raw",
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "signature",
    "aws_secret_access_key",
    "aws_access_key_id",
    "secret_key",
    "presigned_url",
    "download_url",
    "upload_url",
    "dsn",
    "posthog_api_key",
    "phonoglyph_metrics_token",
    "idempotency-key",
]
PRODUCT_PII_DENYLIST = ["email", "ip", "x-real-ip", "x-forwarded-for"]

# Values that are secrets wherever they appear: in messages, exception texts, URLs, SQL.
SECRET_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"phg_[A-Za-z0-9_\-]{8,}"), "phg_" + FILTERED),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1" + FILTERED),
    (
        re.compile(
            r"(?i)(X-Amz-(?:Signature|Credential|Security-Token|Algorithm|Date|Expires|"
            r"SignedHeaders)=)[^&\s\"'#]+"
        ),
        r"\1" + FILTERED,
    ),
    (re.compile(r"(?i)((?:Signature|AWSAccessKeyId|Expires)=)[^&\s\"'#]+"), r"\1" + FILTERED),
)
# Cheap pre-check so most strings skip the regular expressions entirely.
_SECRET_HINTS = ("phg_", "earer", "X-Amz-", "x-amz-", "Signature=", "AWSAccessKeyId=")


def scrub_value(value: str) -> str:
    """Replace secret-looking substrings of `value` (API keys, bearer tokens, URL signatures)."""
    if not any(hint in value for hint in _SECRET_HINTS):
        return value
    for pattern, replacement in SECRET_VALUE_PATTERNS:
        value = pattern.sub(replacement, value)
    return value


def scrub_values(node: Any) -> Any:
    """Scrub every string in a JSON-like tree, in place where possible; return the new node."""
    if isinstance(node, str):
        return scrub_value(node)
    if isinstance(node, dict):
        for key, child in node.items():
            node[key] = scrub_values(child)
        return node
    if isinstance(node, list):
        for index, child in enumerate(node):
            node[index] = scrub_values(child)
        return node
    return node


def is_upload_event(event: dict[str, Any]) -> bool:
    """True for an event of a write to an upload endpoint, whose body is someone's audio.

    The request URL is absent when a request did not come through the WSGI entry point (the
    test client, for one), so the transaction name (the route) is consulted as well; an event
    with no method is treated as a write, since losing a body costs less than leaking one.
    """
    request = event.get("request")
    if not isinstance(request, dict):
        return False
    method = str(request.get("method") or "POST").upper()
    if method not in {"POST", "PUT", "PATCH"}:
        return False
    url = str(request.get("url") or event.get("transaction") or "")
    path = re.sub(r"^[a-z]+://[^/]+", "", url)
    return path.startswith(UPLOAD_PATH_PREFIXES)


def _strip_event(event: dict[str, Any]) -> dict[str, Any]:
    if is_upload_event(event):
        event["request"].pop("data", None)
    # One C-speed encoding finds most events free of secret-looking text, so the Python walk
    # over every node (which runs in the request thread for each traced request) is skipped.
    try:
        encoded = json.dumps(event, default=repr)
    except (TypeError, ValueError):
        encoded = None
    if encoded is not None and not any(hint in encoded for hint in _SECRET_HINTS):
        return event
    return scrub_values(event)  # type: ignore[no-any-return]


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Drop upload bodies and secret-looking values from error events."""
    return _strip_event(event)


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Drop upload bodies and secret-looking values from performance events."""
    return _strip_event(event)


def event_scrubber() -> EventScrubber:
    return EventScrubber(
        denylist=[*DEFAULT_DENYLIST, *PRODUCT_DENYLIST],
        pii_denylist=[*DEFAULT_PII_DENYLIST, *PRODUCT_PII_DENYLIST],
        recursive=True,
        send_default_pii=False,
    )
