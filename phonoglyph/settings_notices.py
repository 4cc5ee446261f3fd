"""Settings of what Phonoglyph tells others: webhooks, alerts, health checks and metrics.

Part of the settings module (`phonoglyph.settings` imports every name), kept apart so that
each settings file stays readable; values come from the environment like all the others.
"""

from __future__ import annotations

import environ

env = environ.Env()

# Webhooks (Standard Webhooks v1)
# The origin integrators reach this server at: resource URLs in webhook payloads start with it.
PHONOGLYPH_PUBLIC_URL: str = env.str("PHONOGLYPH_PUBLIC_URL", default="http://localhost:8000")
# Lets webhook URLs resolve to loopback and private addresses: development and tests only.
PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool = env.bool(
    "PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False
)
PHONOGLYPH_WEBHOOK_TIMEOUT_SECONDS: float = env.float(
    "PHONOGLYPH_WEBHOOK_TIMEOUT_SECONDS", default=10.0
)
PHONOGLYPH_WEBHOOK_MAX_RESPONSE_BYTES: int = env.int(
    "PHONOGLYPH_WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024
)
PHONOGLYPH_WEBHOOK_DISABLE_AFTER_DAYS: int = env.int(
    "PHONOGLYPH_WEBHOOK_DISABLE_AFTER_DAYS", default=5
)
PHONOGLYPH_WEBHOOK_SECRET_ROTATION_HOURS: int = env.int(
    "PHONOGLYPH_WEBHOOK_SECRET_ROTATION_HOURS", default=24
)
PHONOGLYPH_WEBHOOK_DISPATCH_INTERVAL_SECONDS: float = env.float(
    "PHONOGLYPH_WEBHOOK_DISPATCH_INTERVAL_SECONDS", default=5.0
)

# Notifications: how often a signed-in page asks whether a job of its user ended.
PHONOGLYPH_NOTIFICATIONS_POLL_SECONDS: float = env.float(
    "PHONOGLYPH_NOTIFICATIONS_POLL_SECONDS", default=15.0
)
# How long a user's notifications are kept; older ones are deleted daily.
PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS: int = env.int("PHONOGLYPH_NOTIFICATIONS_KEEP_DAYS", default=90)

PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS: int = env.int(
    "PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS", default=30
)
PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL: str = env.str("PHONOGLYPH_ALERT_SLACK_WEBHOOK_URL", default="")
PHONOGLYPH_ALERT_WEBHOOK_URL: str = env.str("PHONOGLYPH_ALERT_WEBHOOK_URL", default="")
PHONOGLYPH_ALERT_WEBHOOK_SECRET: str = env.str("PHONOGLYPH_ALERT_WEBHOOK_SECRET", default="")
PHONOGLYPH_ALERT_EMAILS: list[str] = env.list("PHONOGLYPH_ALERT_EMAILS", default=[])
PHONOGLYPH_ALERT_ROUTES: str = env.str(
    "PHONOGLYPH_ALERT_ROUTES", default="critical:sentry,slack,email;high:sentry,slack;medium:slack"
)
PHONOGLYPH_ALERT_REPEAT_INTERVAL_SECONDS: int = env.int(
    "PHONOGLYPH_ALERT_REPEAT_INTERVAL_SECONDS", default=4 * 3600
)
PHONOGLYPH_ALERT_ESCALATE_AFTER_SECONDS: int = env.int(
    "PHONOGLYPH_ALERT_ESCALATE_AFTER_SECONDS", default=15 * 60
)
PHONOGLYPH_ALERT_ESCALATION_CHANNELS: list[str] = env.list(
    "PHONOGLYPH_ALERT_ESCALATION_CHANNELS", default=["webhook"]
)
PHONOGLYPH_ALERT_RATE_LIMIT_BURST: int = env.int("PHONOGLYPH_ALERT_RATE_LIMIT_BURST", default=20)
PHONOGLYPH_ALERT_RATE_LIMIT_PER_MINUTE: float = env.float(
    "PHONOGLYPH_ALERT_RATE_LIMIT_PER_MINUTE", default=10.0
)
PHONOGLYPH_ALERT_DELIVERY_MAX_ATTEMPTS: int = env.int(
    "PHONOGLYPH_ALERT_DELIVERY_MAX_ATTEMPTS", default=5
)
PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS: float = env.float(
    "PHONOGLYPH_ALERT_DELIVERY_TIMEOUT_SECONDS", default=5.0
)

# Product events, metrics and health checks
PHONOGLYPH_API_EVENT_SAMPLE_RATE: float = env.float("PHONOGLYPH_API_EVENT_SAMPLE_RATE", default=1.0)
PHONOGLYPH_METRICS_TOKEN: str = env.str("PHONOGLYPH_METRICS_TOKEN", default="")
PHONOGLYPH_METRICS_ALLOWED_IPS: list[str] = env.list("PHONOGLYPH_METRICS_ALLOWED_IPS", default=[])
# Celery workers serve their own metrics (task counts and durations) on this port when set.
PHONOGLYPH_WORKER_METRICS_PORT: int = env.int("PHONOGLYPH_WORKER_METRICS_PORT", default=0)
PHONOGLYPH_WORKER_METRICS_ADDRESS: str = env.str(
    "PHONOGLYPH_WORKER_METRICS_ADDRESS", default="127.0.0.1"
)

# Monitoring: health checks and alerting
PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS: float = env.float(
    "PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS", default=5.0
)
# /readyz reuses its results for this long, so callers cannot turn it into load.
PHONOGLYPH_READYZ_CACHE_SECONDS: float = env.float("PHONOGLYPH_READYZ_CACHE_SECONDS", default=5.0)
PHONOGLYPH_MONITORED_QUEUES: list[str] = env.list("PHONOGLYPH_MONITORED_QUEUES", default=[])
