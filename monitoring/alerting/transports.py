"""Notification transports: Slack, email, Sentry and a signed generic webhook.

Contract: `send(notice)` returns when the channel accepted the notice and raises
`TransportError` (with a message worth showing an operator) when it did not, including when
the channel is not configured. Transports never retry; the delivery loop owns retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any, Literal

import sentry_sdk
from django.conf import settings
from django.core.mail import send_mail

SentryLevel = Literal["fatal", "error", "warning", "info"]
SENTRY_LEVELS: dict[str, SentryLevel] = {
    "critical": "fatal",
    "high": "error",
    "medium": "warning",
    "low": "info",
}
SIGNATURE_HEADER = "X-Phonoglyph-Signature"
USER_AGENT = "Phonoglyph-Alerts/1"


class TransportError(Exception):
    """The channel did not accept the notice."""


@dataclass(frozen=True)
class Notice:
    """What every channel says about an alert; `kind` is firing/repeat/escalation/resolved."""

    alert_id: int
    kind: str
    rule: str
    severity: str
    service: str
    state: str
    summary: str
    value: float
    labels: dict[str, str]
    fingerprint: str
    time: str
    escalation_level: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def headline(self) -> str:
        prefix = {
            "firing": "FIRING",
            "repeat": "STILL FIRING",
            "escalation": f"ESCALATED (level {self.escalation_level})",
            "resolved": "RESOLVED",
        }.get(self.kind, self.kind.upper())
        return (
            f"[{prefix}] [{self.severity}] {self.service}: {self.summary} (alert #{self.alert_id})"
        )


def _post_json(url: str, body: bytes, headers: dict[str, str]) -> None:
    if not url.startswith(("http://", "https://")):
        raise TransportError("the URL must be http:// or https://")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    timeout = float(settings.PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as error:
        raise TransportError(f"HTTP {error.code} from the endpoint") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TransportError(f"could not reach the endpoint: {reason}") from None
    if not 200 <= status < 300:
        raise TransportError(f"HTTP {status} from the endpoint")


def send_slack(notice: Notice) -> None:
    """POST an incoming-webhook message to PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL."""
    url = settings.PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL
    if not url:
        raise TransportError("Slack is not configured (PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL)")
    fields = [
        ("Severity", notice.severity),
        ("Service", notice.service),
        ("Time", notice.time),
        ("Alert id", str(notice.alert_id)),
        ("Rule", notice.rule),
        ("State", notice.state),
    ]
    payload = {
        "text": notice.headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": notice.headline}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields
                ],
            },
        ],
    }
    _post_json(url, json.dumps(payload).encode(), {})


def webhook_signature(body: bytes, secret: str) -> str:
    """The value of X-Phonoglyph-Signature: HMAC-SHA256 of the raw body, hex encoded."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(notice: Notice) -> None:
    """POST the notice as JSON to PHONOGLYPH_ALERT_WEBHOOK_URL, signed with the shared secret."""
    url = settings.PHONOGLYPH_ALERT_WEBHOOK_URL
    secret = settings.PHONOGLYPH_ALERT_WEBHOOK_SECRET
    if not url:
        raise TransportError("the webhook is not configured (PHONOGLYPH_ALERT_WEBHOOK_URL)")
    if not secret:
        # Unsigned alerts could be forged by anyone who learns the URL; refuse to send them.
        raise TransportError("PHONOGLYPH_ALERT_WEBHOOK_SECRET is not set")
    body = json.dumps(notice.as_dict(), sort_keys=True).encode()
    _post_json(url, body, {SIGNATURE_HEADER: webhook_signature(body, secret)})


def send_email(notice: Notice) -> None:
    """Mail the notice through Django's mail backend to PHONOGLYPH_ALERT_EMAILS."""
    recipients = list(settings.PHONOGLYPH_ALERT_EMAILS)
    if not recipients:
        raise TransportError("no recipients configured (PHONOGLYPH_ALERT_EMAILS)")
    lines = [
        notice.summary,
        "",
        f"Alert id: {notice.alert_id}",
        f"Rule: {notice.rule}",
        f"Severity: {notice.severity}",
        f"Service: {notice.service}",
        f"State: {notice.state}",
        f"Value: {notice.value:g}",
        f"Time: {notice.time}",
    ]
    lines += [f"Label {key}: {value}" for key, value in sorted(notice.labels.items())]
    try:
        send_mail(
            subject=notice.headline[:200],
            message="\n".join(lines),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception as error:
        raise TransportError(f"the mail backend refused the message: {error}") from None


def send_sentry(notice: Notice) -> None:
    """Capture the notice as a Sentry message at the level matching its severity."""
    if not sentry_sdk.get_client().is_active():
        raise TransportError("Sentry is not configured (SENTRY_DSN)")
    level: SentryLevel = "info" if notice.kind == "resolved" else SENTRY_LEVELS[notice.severity]
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("alert_id", str(notice.alert_id))
        scope.set_tag("alert_rule", notice.rule)
        scope.set_tag("severity", notice.severity)
        scope.set_tag("service", notice.service)
        scope.set_tag("notice", notice.kind)
        scope.set_context("alert", notice.as_dict())
        # One Sentry issue per incident, not one per notice text.
        scope.fingerprint = ["phonoglyph-alert", notice.fingerprint]
        event_id = scope.capture_message(notice.headline, level=level)
    if event_id is None:
        raise TransportError("Sentry dropped the event (sampling or a before_send filter)")
    sentry_sdk.flush(timeout=float(settings.PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS))


TRANSPORTS = {
    "slack": send_slack,
    "email": send_email,
    "sentry": send_sentry,
    "webhook": send_webhook,
}
