"""Phonoglyph's audio analysis engine: pure Python on Essentia and NumPy, no web framework."""

from __future__ import annotations

from analysis.engine.decode import (
    ALLOWED_INPUT_FORMATS,
    AudioProbe,
    decodes_at,
    iter_pcm_blocks,
    probe_audio,
    sniff_audio_format,
)
from analysis.engine.errors import EngineError
from analysis.engine.pipeline import ENGINE_VERSION, FEATURES, analyze
from analysis.engine.results import AnalysisResult
from analysis.engine.spotify import to_audio_analysis

__all__ = [
    "ALLOWED_INPUT_FORMATS",
    "ENGINE_VERSION",
    "FEATURES",
    "AnalysisResult",
    "AudioProbe",
    "EngineError",
    "analyze",
    "decodes_at",
    "iter_pcm_blocks",
    "probe_audio",
    "sniff_audio_format",
    "to_audio_analysis",
]
