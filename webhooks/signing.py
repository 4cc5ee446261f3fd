"""Standard Webhooks (v1) secrets, message ids and signatures.

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes. The signature
of a message is `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), and the
`webhook-signature` header lists one signature per valid secret, separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix, not a secret)


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def message_id_generate() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def signature(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(*, secrets_: list[str], message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one `v1,` signature per secret, space-separated."""
    return " ".join(
        signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
        for secret in secrets_
    )
