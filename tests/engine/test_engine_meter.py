from __future__ import annotations

import numpy as np

from engine import rhythm


def _confidence(strengths: list[float]) -> rhythm.Downbeats | None:
    envelope = np.asarray(strengths, dtype=np.float64)
    return rhythm.estimate_downbeats(np.arange(envelope.size, dtype=np.int64), envelope)


def test_an_accent_that_opens_every_bar_is_a_confident_meter() -> None:
    meter = _confidence([6.0, 1.0, 1.0] * 12)
    assert meter is not None
    assert (meter.beats_per_bar, meter.first_beat_index) == (3, 0)
    assert meter.confidence >= rhythm.METER_THRESHOLD


def test_accents_that_do_not_recur_bar_after_bar_are_no_meter() -> None:
    # Loud beats scattered at random: some bar phase always averages louder than the rest, but
    # its beat is the loudest of its bar in few bars.
    rng = np.random.default_rng(5)
    strengths = list(rng.uniform(0.0, 1.0, 48) ** 4)
    meter = _confidence(strengths)
    assert meter is None or meter.confidence < rhythm.METER_THRESHOLD


def test_equal_beats_are_no_meter() -> None:
    meter = _confidence([5.0] * 24)
    assert meter is None or meter.confidence < rhythm.METER_THRESHOLD
