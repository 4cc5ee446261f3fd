"""The events an endpoint may subscribe to, and the small payload each one carries.

Job events are generic over the registered job kinds: every kind `k` offers `k.succeeded` and
`k.failed`, so a kind registered later (stem separation) has its events without a change
here. The names below are also accepted before their kind is registered, so an integrator
can subscribe ahead of a deployment that adds the kind.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings

from jobs.kinds import job_kinds

JOB_OUTCOMES = ("succeeded", "failed")
KNOWN_JOB_KINDS = ("analysis", "stem_separation")
CREDITS_LOW = "credits.low"
# Sent on request to one endpoint, whatever it subscribed to.
TEST_EVENT = "webhook.test"


def event_types() -> tuple[str, ...]:
    """Every event type an endpoint may subscribe to, in a stable order."""
    kinds = dict.fromkeys([*KNOWN_JOB_KINDS, *(kind.name for kind in job_kinds())])
    return (
        *(f"{kind}.{outcome}" for kind in kinds for outcome in JOB_OUTCOMES),
        CREDITS_LOW,
    )


def absolute_url(path: str) -> str:
    return settings.PHONOGLYPH_PUBLIC_URL.rstrip("/") + path


def payload_body(*, event_type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The JSON body of a message: `{type, timestamp, data}`, compact, keys in a fixed order."""
    document = {
        "type": event_type,
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"))
