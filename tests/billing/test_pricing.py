from __future__ import annotations

import math

import pytest

from billing.models import PriceOverride
from billing.pricing import credits_cost
from billing.selectors import price_for


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, 0), (0.5, 1), (59.99, 1), (60, 1), (60.01, 2), (180, 3), (181, 4)],
)
def test_analysis_costs_one_credit_per_started_minute(seconds: float, expected: int) -> None:
    assert credits_cost(feature="analysis", audio_seconds=seconds) == expected


def test_stem_separation_costs_three_credits_per_started_minute() -> None:
    assert credits_cost(feature="stem_separation", audio_seconds=61) == 6


def test_prices_follow_the_settings(settings) -> None:
    settings.PHONOGLYPH_PRICE_ANALYSIS_PER_MINUTE = 5
    assert credits_cost(feature="analysis", audio_seconds=90) == 10


def test_a_cache_hit_costs_nothing() -> None:
    assert credits_cost(feature="analysis", audio_seconds=600, cache_hit=True) == 0


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf])
def test_cost_refuses_a_duration_that_is_not_a_real_length(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        credits_cost(feature="analysis", audio_seconds=seconds)


def test_cost_refuses_a_feature_not_priced_by_duration() -> None:
    with pytest.raises(ValueError, match="storage"):
        credits_cost(feature="storage", audio_seconds=60)


@pytest.mark.django_db
def test_price_for_uses_the_admin_override_of_the_feature() -> None:
    PriceOverride.objects.create(feature="analysis", credits_per_minute=4)
    assert price_for("analysis", 61) == 8
    assert price_for("stem_separation", 61) == 6


@pytest.mark.django_db
def test_price_for_a_cache_hit_is_zero_even_with_an_override() -> None:
    PriceOverride.objects.create(feature="analysis", credits_per_minute=4)
    assert price_for("analysis", 61, cache_hit=True) == 0
