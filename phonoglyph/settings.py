"""Phonoglyph settings, read from the environment (django-environ).

With no environment at all the app runs on embedded defaults: SQLite, local disk storage,
a filesystem Celery broker and a local-memory cache. Production differs only by environment
variables; every one a deployer may change is listed in the README.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
import environ

from phonoglyph.startup import (
    DEVELOPMENT_SECRET_KEY,
    refuse_bad_networks,
    refuse_insecure_production,
)

# Lets classes such as ModelAdmin[Model] be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# scripts/run writes this checkout's development settings here (DEBUG and a generated key) so
# that every manage.py command works from a new shell. Only variables missing from the real
# environment are taken from it; production sets its environment and has no such file.
LOCAL_ENV_FILE = VAR_DIR / "local.env"
if LOCAL_ENV_FILE.is_file():
    environ.Env.read_env(LOCAL_ENV_FILE, overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)

SECRET_KEY: str = env.str("SECRET_KEY", default="") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
# Previous keys, still accepted for signatures (sessions, password resets) while they age out:
# rotating SECRET_KEY without logging everyone out (docs/operations.md, "Rotate secrets").
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)


if not DEBUG:
    refuse_insecure_production(secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "telemetry",
    "accounts",
    "media",
    "analysis",
    "billing",
    "stems",
    "webhooks",
    "notifications",
    "monitoring",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "telemetry.middleware.RequestMonitoringMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.LogContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RatelimitedMiddleware",
    "core.middleware.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "phonoglyph.urls"
WSGI_APPLICATION = "phonoglyph.wsgi.application"
ASGI_APPLICATION = "phonoglyph.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telemetry.context_processors.monitoring_config",
                "accounts.preferences.theme_context",
                "notifications.context_processors.notifications_header",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'phonoglyph.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# psycopg's connection pool, per process, on PostgreSQL (0 turns it off). A gunicorn sync
# worker or a Celery prefork child uses one connection at a time, a gthread worker one per
# thread: size it in docs/operations.md ("Connection pooling") against max_connections.
DATABASE_POOL_MAX_SIZE: int = env.int("DATABASE_POOL_MAX_SIZE", default=4)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE:
    # Django refuses persistent connections alongside a pool: the pool keeps them instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The ORM binds parameters on the client and never prepares; the ledger's hot path
    # (billing/hot_paths.py) binds on the server and, with this on, prepares its statements
    # once per connection instead of planning them per call. A pooler in between must keep
    # protocol-level prepared statements (PgBouncer 1.21 or later with max_prepared_statements
    # set); behind one that cannot, turn it off (docs/operations.md, "Connection pooling").
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        0 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis must fail fast, not hold a worker for the OS's TCP timeout.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        },
        # The rate-limit counters: Redis, or process memory while Redis is unreachable (see
        # core/cache.py), so that log-in and uploads keep working under bounded local limits.
        "ratelimit": {"BACKEND": "core.cache.ResilientCache", "LOCATION": "default"},
    }
    RATELIMIT_USE_CACHE = "ratelimit"
else:
    # django-ratelimit needs atomic increments. Local memory increments under a lock inside one
    # process, which is exactly what the embedded single-process setup runs; the check that
    # refuses it exists for multi-process deployments, which set REDIS_URL.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# How long a succeeded analysis's detail, Spotify-style view and arrays stay cached
# (analysis/cache.py); they never change, so this only bounds the cache's memory.
PHONOGLYPH_RESULT_CACHE_SECONDS: int = env.int("PHONOGLYPH_RESULT_CACHE_SECONDS", default=86400)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded audio is private: MEDIA_ROOT is never served by URL, only through the download view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/private-media/"

AWS_STORAGE_BUCKET_NAME: str = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL: str | None = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME: str | None = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID: str | None = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY: str | None = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_QUERYSTRING_EXPIRE: int = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False

if AWS_STORAGE_BUCKET_NAME:
    _default_storage: dict[str, object] = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Phonoglyph <noreply@localhost>")

# Security headers. HSTS and secure cookies only make sense behind TLS, i.e. in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.PlanRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Phonoglyph API",
    "DESCRIPTION": "Audio analysis for visualizations: tempo, beats, key, loudness, onsets, "
    "sections and a time-aligned feature timeline. Errors are RFC 7807 problem+json.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's toggle button, nesting interactive
    # controls, which screen readers cannot operate (WCAG 4.1.2).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "LICENSE": {"name": "AGPL-3.0-or-later"},
    # Every job kind shares one set of states, and a media file's states appear in the
    # upload's result too; one name each keeps the schema's enums apart.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.JobStatus",
        "MediaFileStatusEnum": "media.models.MediaFile.Status",
    },
}

# Read after the local env file above, like every setting.
from phonoglyph.settings_limits import *  # noqa: E402, F403  # abuse limits and plan budgets

# Lock files shared by the processes of one host (the password-hashing slots).
PHONOGLYPH_LOCK_DIR: str = env.str("PHONOGLYPH_LOCK_DIR", default=str(VAR_DIR / "locks"))

CELERY_BROKER_URL: str = (
    env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://localhost/"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange-to-queue bindings: without a fixed folder kombu writes ./control relative to
        # each process's working directory, and publishers then miss the worker's queues.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

from phonoglyph.settings_uploads import *  # noqa: E402, F403  # upload limits and storage
from phonoglyph.settings_uploads import PHONOGLYPH_MAX_DURATION_SECONDS  # noqa: E402

# Analysis pipeline
# Time limits scale with the audio: soft = base + per_audio_second * duration, hard = soft +
# grace. The soft limit also bounds the decoder child's wall-clock time.
ANALYSIS_TIME_LIMIT_BASE_SECONDS: int = env.int("ANALYSIS_TIME_LIMIT_BASE_SECONDS", default=60)
ANALYSIS_TIME_LIMIT_PER_AUDIO_SECOND: float = env.float(
    "ANALYSIS_TIME_LIMIT_PER_AUDIO_SECOND", default=0.5
)
ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS: int = env.int(
    "ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS", default=30
)
ANALYSIS_MAX_AUDIO_SECONDS: int = env.int(
    "ANALYSIS_MAX_AUDIO_SECONDS", default=PHONOGLYPH_MAX_DURATION_SECONDS
)
ANALYSIS_HEARTBEAT_SECONDS: float = env.float("ANALYSIS_HEARTBEAT_SECONDS", default=10.0)
ANALYSIS_HEARTBEAT_STALE_SECONDS: int = env.int("ANALYSIS_HEARTBEAT_STALE_SECONDS", default=90)
ANALYSIS_SWEEP_INTERVAL_SECONDS: int = env.int("ANALYSIS_SWEEP_INTERVAL_SECONDS", default=60)
ANALYSIS_TASK_MAX_RETRIES: int = env.int("ANALYSIS_TASK_MAX_RETRIES", default=5)
ANALYSIS_RETRY_BACKOFF_SECONDS: int = env.int("ANALYSIS_RETRY_BACKOFF_SECONDS", default=5)
ANALYSIS_RETRY_BACKOFF_MAX_SECONDS: int = env.int("ANALYSIS_RETRY_BACKOFF_MAX_SECONDS", default=300)
ANALYSIS_RESERVATION_HOURS: int = env.int("ANALYSIS_RESERVATION_HOURS", default=24)
ANALYSIS_LONGEST_HARD_TIME_LIMIT = int(
    ANALYSIS_TIME_LIMIT_BASE_SECONDS
    + ANALYSIS_TIME_LIMIT_PER_AUDIO_SECOND * ANALYSIS_MAX_AUDIO_SECONDS
    + ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS
)
# Stem separation (stems/): the same job clock as analysis unless set apart.
STEMS_WEIGHTS_DIR: str = env.str(
    "STEMS_WEIGHTS_DIR", default=str(BASE_DIR / "var" / "models" / "spleeter-2stems")
)
STEMS_TIME_LIMIT_BASE_SECONDS: int = env.int("STEMS_TIME_LIMIT_BASE_SECONDS", default=60)
STEMS_TIME_LIMIT_PER_AUDIO_SECOND: float = env.float(
    "STEMS_TIME_LIMIT_PER_AUDIO_SECOND", default=1.0
)
STEMS_MAX_AUDIO_SECONDS: int = env.int(
    "STEMS_MAX_AUDIO_SECONDS", default=ANALYSIS_MAX_AUDIO_SECONDS
)
STEMS_TASK_MAX_RETRIES: int = env.int("STEMS_TASK_MAX_RETRIES", default=ANALYSIS_TASK_MAX_RETRIES)
STEMS_SWEEP_INTERVAL_SECONDS: int = env.int(
    "STEMS_SWEEP_INTERVAL_SECONDS", default=ANALYSIS_SWEEP_INTERVAL_SECONDS
)
STEMS_LONGEST_HARD_TIME_LIMIT = int(
    STEMS_TIME_LIMIT_BASE_SECONDS
    + STEMS_TIME_LIMIT_PER_AUDIO_SECOND * STEMS_MAX_AUDIO_SECONDS
    + ANALYSIS_HARD_TIME_LIMIT_GRACE_SECONDS
)
CELERY_TASK_ROUTES = {
    "analysis.tasks.analysis_job_run": {"queue": "analysis"},
    "analysis.tasks.analysis_jobs_sweep": {"queue": "celery"},
    "stems.tasks.stem_separation_job_run": {"queue": "stems"},
    "stems.tasks.stem_separation_jobs_sweep": {"queue": "celery"},
    # Short (far faster than real time), so it does not wait behind analyses and separations.
    "media.tasks.media_preview_make": {"queue": "celery"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis redelivers an unacknowledged task after visibility_timeout, even one still running:
    # keep it above the longest hard limit and let the sweep, not redelivery, rescue jobs of
    # dead workers.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = (
        max(ANALYSIS_LONGEST_HARD_TIME_LIMIT, STEMS_LONGEST_HARD_TIME_LIMIT) + 3600
    )
# Through vars() because the billing section below defines the dict and keeps what is there.
vars().setdefault("CELERY_BEAT_SCHEDULE", {}).update(
    {
        "analysis-jobs-sweep": {
            "task": "analysis.tasks.analysis_jobs_sweep",
            "schedule": float(ANALYSIS_SWEEP_INTERVAL_SECONDS),
        },
        "stem-separation-jobs-sweep": {
            "task": "stems.tasks.stem_separation_jobs_sweep",
            "schedule": float(STEMS_SWEEP_INTERVAL_SECONDS),
        },
        "media-previews-sweep": {"task": "media.tasks.media_previews_sweep", "schedule": 600.0},
    }
)

from phonoglyph.settings_credits import *  # noqa: E402, F403  # prices, grants, reservations
from phonoglyph.settings_credits import PHONOGLYPH_CREDIT_SWEEP_INTERVAL_SECONDS  # noqa: E402

# Other apps add their periodic tasks to this dict with CELERY_BEAT_SCHEDULE.update(...).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = vars().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE.update(
    {
        "billing-release-stale-reservations": {
            "task": "billing.tasks.credits_release_stale",
            "schedule": float(PHONOGLYPH_CREDIT_SWEEP_INTERVAL_SECONDS),
        },
        "billing-expire-credits": {
            "task": "billing.tasks.credits_expire",
            "schedule": 3600.0,
        },
        "billing-monthly-free-credits": {
            "task": "billing.tasks.credits_grant_monthly",
            # Hourly and idempotent per user and month: a missed run or a new user is caught
            # up within the hour, and running again grants nothing twice.
            "schedule": 3600.0,
        },
        # Ledger changes append the shared system accounts' postings; this keeps their rows
        # current (reconciliation adds whatever is not folded yet).
        "billing-fold-system-postings": {
            "task": "billing.tasks.system_postings_fold",
            "schedule": 60.0,
        },
        "billing-reconcile-credits": {
            "task": "billing.tasks.ledger_reconcile",
            "schedule": 3600.0,
        },
    }
)

# A user is told (webhook `credits.low`) when their available credits fall below this; 0: never.
PHONOGLYPH_CREDITS_LOW_THRESHOLD: int = env.int("PHONOGLYPH_CREDITS_LOW_THRESHOLD", default=10)

from phonoglyph.settings_notices import *  # noqa: E402, F403  # webhooks, alerts, metrics
from phonoglyph.settings_notices import (  # noqa: E402
    PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS,
    PHONOGLYPH_METRICS_ALLOWED_IPS,
    PHONOGLYPH_WEBHOOK_DISPATCH_INTERVAL_SECONDS,
)

CELERY_BEAT_SCHEDULE.update(
    {
        "webhooks-dispatch-due": {
            "task": "webhooks.tasks.webhook_deliveries_dispatch",
            "schedule": PHONOGLYPH_WEBHOOK_DISPATCH_INTERVAL_SECONDS,
        },
        "notifications-prune": {
            "task": "notifications.tasks.notifications_prune",
            "schedule": 86400.0,
        },
    }
)


# Monitoring: Sentry, PostHog, metrics, health and alerting
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT: str = env.str(
    "SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"
)
SENTRY_RELEASE: str = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE: float = env.float(
    "SENTRY_TRACES_SAMPLE_RATE", default=1.0 if DEBUG else 0.1
)
# A child process of each web worker builds and sends its traced requests' transactions
# (telemetry/trace_relay.py); off, the worker does it on its own threads.
SENTRY_TRACES_RELAY: bool = env.bool("SENTRY_TRACES_RELAY", default=True)
SENTRY_BROWSER_DSN: str = env.str("SENTRY_BROWSER_DSN", default="")
SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE: float = env.float(
    "SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", default=1.0
)
POSTHOG_API_KEY: str = env.str("POSTHOG_API_KEY", default="")
POSTHOG_HOST: str = env.str("POSTHOG_HOST", default="https://us.i.posthog.com")
refuse_bad_networks(
    "PHONOGLYPH_METRICS_ALLOWED_IPS",
    PHONOGLYPH_METRICS_ALLOWED_IPS,  # from settings_notices
)
if SENTRY_BROWSER_DSN or POSTHOG_API_KEY:
    from telemetry.context_processors import browser_connect_origins

    # The browser SDKs post events to their own hosts, which the page's CSP must allow.
    CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'",
        " ".join(
            [
                "connect-src 'self'",
                *browser_connect_origins(
                    sentry_dsn=SENTRY_BROWSER_DSN,
                    posthog_host=POSTHOG_HOST if POSTHOG_API_KEY else "",
                ),
            ]
        ),
    )
if SENTRY_DSN:
    from telemetry.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        base_dir=BASE_DIR,
        relay_traces=SENTRY_TRACES_RELAY,
    )

CELERY_BEAT_SCHEDULE.update(
    {
        "monitoring-alerts-evaluate": {
            "task": "monitoring.tasks.alerts_evaluate",
            "schedule": float(PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS),
        },
        "monitoring-notifications-deliver": {
            "task": "monitoring.tasks.notifications_deliver",
            "schedule": float(PHONOGLYPH_ALERT_EVALUATION_INTERVAL_SECONDS),
        },
    }
)
