"""Settings of the abuse limits (accounts/limits.py) and of the API plans' budgets.

Part of the settings module (`phonoglyph.settings` imports every name), kept apart so that
each settings file stays readable; values come from the environment like all the others.
"""

from __future__ import annotations

import os

import environ

env = environ.Env()

# Abuse limits (accounts/limits.py). Log-in: failures per IP+email a minute, attempts per IP a
# minute across emails, failures per email an hour across IPs (a known device passes), and
# password hashes at once per host.
PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE: int = env.int(
    "PHONOGLYPH_LOGIN_FAILURES_PER_MINUTE", default=5
)
PHONOGLYPH_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE: int = env.int(
    "PHONOGLYPH_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", default=20
)
PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR: int = env.int(
    "PHONOGLYPH_LOGIN_FAILURES_PER_EMAIL_PER_HOUR", default=20
)
PHONOGLYPH_LOGIN_CONCURRENT_HASHES: int = env.int(
    "PHONOGLYPH_LOGIN_CONCURRENT_HASHES", default=max(1, (os.cpu_count() or 2) - 1)
)
PHONOGLYPH_SIGNUPS_PER_IP_PER_HOUR: int = env.int("PHONOGLYPH_SIGNUPS_PER_IP_PER_HOUR", default=5)
PHONOGLYPH_SIGNUPS_PER_EMAIL_PER_HOUR: int = env.int(
    "PHONOGLYPH_SIGNUPS_PER_EMAIL_PER_HOUR", default=3
)
# How long the confirmation link mailed at sign-up works, in seconds (accounts/confirmation.py).
PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE: int = env.int(
    "PHONOGLYPH_SIGNUP_CONFIRM_MAX_AGE", default=3 * 24 * 3600
)
PHONOGLYPH_PASSWORD_RESETS_PER_IP_PER_HOUR: int = env.int(
    "PHONOGLYPH_PASSWORD_RESETS_PER_IP_PER_HOUR", default=10
)
PHONOGLYPH_PASSWORD_RESETS_PER_EMAIL_PER_HOUR: int = env.int(
    "PHONOGLYPH_PASSWORD_RESETS_PER_EMAIL_PER_HOUR", default=3
)

# API rate limits come from the caller's plan (accounts.Plan, edited by staff). These, when
# set, override the `free` plan's budgets (requests per minute and per day, in cost units:
# a read costs 1, a write 5, starting a job 10) and its concurrent jobs.
PHONOGLYPH_FREE_REQUESTS_PER_MINUTE: int | None = env.int(
    "PHONOGLYPH_FREE_REQUESTS_PER_MINUTE", default=None
)
PHONOGLYPH_FREE_REQUESTS_PER_DAY: int | None = env.int(
    "PHONOGLYPH_FREE_REQUESTS_PER_DAY", default=None
)
PHONOGLYPH_FREE_CONCURRENT_JOBS: int | None = env.int(
    "PHONOGLYPH_FREE_CONCURRENT_JOBS", default=None
)
# django-ratelimit: how a refusal is answered and which request field names the client.
RATELIMIT_VIEW = "core.api.exceptions.ratelimited_view"
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")

PHONOGLYPH_IDEMPOTENCY_TTL_HOURS: int = env.int("PHONOGLYPH_IDEMPOTENCY_TTL_HOURS", default=24)
