from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.decode import iter_pcm_blocks
from tests.engine.engine_signals import SR, sine
from tests.support.audio import encode


def test_decoding_streams_fixed_size_float_blocks_matching_the_source(workdir: Path) -> None:
    left = sine(440.0, 2.5, 0.5)
    right = sine(660.0, 2.5, 0.25)
    path = encode(np.stack([left, right], axis=1), workdir / "stereo.flac")
    blocks = list(iter_pcm_blocks(path, input_format="flac", block_seconds=1.0))
    assert [b.shape for b in blocks] == [(SR, 2), (SR, 2), (SR // 2, 2)]
    assert all(b.dtype == np.float32 for b in blocks)
    decoded = np.concatenate(blocks)
    assert np.max(np.abs(decoded[:, 0] - left)) < 1e-3
    assert np.max(np.abs(decoded[:, 1] - right)) < 1e-3


def test_max_seconds_and_channel_mixing_are_applied_by_the_decoder(workdir: Path) -> None:
    path = encode(sine(440.0, 3.0, 0.5), workdir / "mono.wav")
    blocks = list(
        iter_pcm_blocks(path, input_format="wav", channels=2, sample_rate=22050, max_seconds=1.0)
    )
    decoded = np.concatenate(blocks)
    assert decoded.shape == (22050, 2)


def test_stopping_early_ends_the_decoder(workdir: Path) -> None:
    path = encode(np.zeros((SR * 30, 2), dtype=np.float32), workdir / "long.flac")
    stream = iter_pcm_blocks(path, input_format="flac", block_seconds=1.0)
    first = next(stream)
    stream.close()
    assert first.shape == (SR, 2)
