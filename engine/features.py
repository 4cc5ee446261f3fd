"""The feature registry: what the engine can compute, and the one validation of a request for it.

Importing this module loads neither Essentia nor NumPy, so web processes can validate a
request without paying for the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

ENGINE_VERSION = "2.2.0"
FEATURES: tuple[str, ...] = (
    "tempo",
    "key",
    "loudness",
    "onsets",
    "sections",
    "timeline",
    "waveform",
)


class UnknownFeatures(ValueError):
    """A request named features the engine does not compute; ``unknown`` lists them sorted."""

    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__(
            f"Unknown feature(s): {', '.join(unknown)}. Allowed: {', '.join(FEATURES)}."
        )


def validate_features(features: Iterable[str] | None) -> tuple[str, ...]:
    """Return the requested features in canonical order; ``None`` or empty means all.

    Raises ``UnknownFeatures`` naming every feature the engine does not compute.
    """
    if features is None:
        return FEATURES
    requested = {str(name) for name in features}
    if not requested:
        return FEATURES
    unknown = sorted(requested - set(FEATURES))
    if unknown:
        raise UnknownFeatures(unknown)
    return tuple(name for name in FEATURES if name in requested)
