"""Typed entry points into Essentia, the only place the untyped library is touched.

Every function here takes already-decoded NumPy samples; nothing ever hands a file path to
Essentia, whose bundled decoders must not see uploads.
"""

from __future__ import annotations

from collections.abc import Sequence

import essentia
import numpy as np
import numpy.typing as npt

# Importing essentia.standard prints an INFO banner on stderr; a CLI promising one clear
# error line, and JSON logs, must not carry it.
essentia.log.infoActive = False

import essentia.standard as es  # noqa: E402

FloatArray = npt.NDArray[np.float32]


def essentia_version() -> str:
    return str(essentia.__version__)


class IirFilter:
    """Stateful IIR filter: consecutive calls continue the same filtered signal."""

    def __init__(self, numerator: Sequence[float], denominator: Sequence[float]) -> None:
        self._algorithm = es.IIR(numerator=list(numerator), denominator=list(denominator))

    def __call__(self, samples: FloatArray) -> FloatArray:
        return np.asarray(self._algorithm(np.ascontiguousarray(samples, dtype=np.float32)))


def key_extractor(
    samples: FloatArray, sample_rate: int, profile: str, frame_size: int
) -> tuple[str, str, float]:
    extractor = es.KeyExtractor(
        sampleRate=float(sample_rate),
        profileType=profile,
        frameSize=frame_size,
        hopSize=frame_size,
    )
    key, scale, strength = extractor(np.ascontiguousarray(samples, dtype=np.float32))
    return str(key), str(scale), float(strength)


def bic_segmentation(features: FloatArray, min_length: int, size1: int, size2: int) -> list[int]:
    """Frame indices of segment boundaries (first and last frame included) found by SBic."""
    matrix = essentia.array(np.ascontiguousarray(features, dtype=np.float32))
    algorithm = es.SBic(
        minLength=min_length,
        size1=size1,
        inc1=max(1, size1 // 5),
        size2=size2,
        inc2=max(1, size2 // 10),
    )
    return [round(index) for index in algorithm(matrix)]


def es_loudness_ebur128(stereo: FloatArray, sample_rate: int) -> tuple[float, float]:
    """Integrated loudness and loudness range of a whole in-memory stereo signal.

    Used to cross-check the block-wise meter; the pipeline never holds a whole signal.
    """
    algorithm = es.LoudnessEBUR128(sampleRate=float(sample_rate))
    _, _, integrated, loudness_range = algorithm(np.ascontiguousarray(stereo, dtype=np.float32))
    return float(integrated), float(loudness_range)
