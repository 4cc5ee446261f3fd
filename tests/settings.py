"""Test settings: the real settings module under a production-like environment.

Only variables the caller has not set are defaulted, so CI's DATABASE_URL and REDIS_URL apply.
"""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "tests-only-" + "k3y-" * 16)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# A test user holds exactly the credits its test grants. Billing grants the sign-up bonus when
# it opens an account, so the tests about the bonus switch it on themselves.
os.environ.setdefault("PHONOGLYPH_SIGNUP_BONUS_CREDITS", "0")
# Budgets no ordinary test reaches; the rate-limit tests give their users plans of their own.
os.environ.setdefault("PHONOGLYPH_FREE_REQUESTS_PER_MINUTE", "1000000")
os.environ.setdefault("PHONOGLYPH_FREE_REQUESTS_PER_DAY", "1000000")
os.environ.setdefault("PHONOGLYPH_FREE_CONCURRENT_JOBS", "1000")
# The race tests open one connection per thread, more than a pool sized for one process would
# hand out at once; the production processes started by tests (tests/support/) pool.
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "0")

from phonoglyph.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test sees fresh readiness results; tests of the reuse set their own duration.
PHONOGLYPH_READYZ_CACHE_SECONDS = 0.0
