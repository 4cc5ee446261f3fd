"""The list price of a feature in credits, computed from a validated audio duration."""

from __future__ import annotations

import math

from django.conf import settings

SECONDS_PER_MINUTE = 60
PRICED_FEATURES = ("analysis", "stem_separation")


def list_price_per_minute(feature: str) -> int:
    """Return the settings' price of `feature` in credits per started minute of audio.

    Raises ValueError for a feature that is not priced by audio duration.
    """
    if feature == "analysis":
        return int(settings.PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE)
    if feature == "stem_separation":
        return int(settings.PHONOGLYPH_PRICE_STEM_SEPARATION_PER_MINUTE)
    raise ValueError(f"{feature!r} is not priced by audio duration.")


def credits_cost(
    *,
    feature: str,
    audio_seconds: float,
    per_minute: int | None = None,
    cache_hit: bool = False,
) -> int:
    """Return the credits `audio_seconds` of `feature` cost, per STARTED minute.

    `per_minute` defaults to the settings' list price; `price_for` passes an admin override.
    A cache hit of an existing analysis costs nothing. Raises ValueError for a duration that
    is negative or not finite, or a feature not priced by duration.
    """
    if not math.isfinite(audio_seconds) or audio_seconds < 0:
        raise ValueError("Audio duration must be a finite, non-negative number of seconds.")
    rate = list_price_per_minute(feature) if per_minute is None else per_minute
    if rate < 0:
        raise ValueError("A price cannot be negative.")
    if cache_hit:
        return 0
    return math.ceil(audio_seconds / SECONDS_PER_MINUTE) * rate
