"""Browser monitoring configuration for the page templates."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from telemetry.sentry import release_name


def browser_connect_origins(*, sentry_dsn: str, posthog_host: str) -> list[str]:
    """Origins the browser SDKs post to, for the CSP `connect-src` of pages."""
    origins = []
    for url in (sentry_dsn, posthog_host):
        if url:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            origins.append(f"{parts.scheme}://{host}{port}")
    return origins


def browser_config(request: HttpRequest) -> dict[str, object] | None:
    """Return what the browser SDKs need, or None when neither is configured.

    Everything here ends up in the page source, so it holds only public values: the browser
    DSN and the PostHog project key are write-only ingestion keys by design.
    """
    sentry_dsn = settings.SENTRY_BROWSER_DSN
    posthog_key = settings.POSTHOG_API_KEY
    if not sentry_dsn and not posthog_key:
        return None
    user = getattr(request, "user", None)
    config: dict[str, object] = {
        "userId": str(user.pk) if user is not None and user.is_authenticated else None,
    }
    if sentry_dsn:
        config["sentry"] = {
            "dsn": sentry_dsn,
            "environment": settings.SENTRY_ENVIRONMENT,
            "release": release_name(settings.SENTRY_RELEASE, settings.BASE_DIR),
            "replaysOnErrorSampleRate": settings.SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE,
        }
    if posthog_key:
        config["posthog"] = {"apiKey": posthog_key, "host": settings.POSTHOG_HOST}
    return config


def monitoring_config(request: HttpRequest) -> dict[str, object]:
    """Template context: `monitoring_config` is the browser configuration or None."""
    return {"monitoring_config": browser_config(request)}
