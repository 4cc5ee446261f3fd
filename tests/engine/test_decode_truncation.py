from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.decode import iter_pcm_blocks, probe_audio
from engine.errors import EngineError
from tests.engine.engine_signals import SR, sine
from tests.support.audio import encode


@pytest.fixture(scope="module")
def truncated_mp3(workdir: Path) -> Path:
    tone = sine(330.0, 8.0, 0.4)
    full = encode(np.stack([tone, tone], axis=1), workdir / "full.mp3")
    cut = workdir / "cut.mp3"
    raw = full.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2 + 137])
    return cut


def _outcome(path: Path) -> tuple[str, int]:
    try:
        probe_audio(path, input_format="mp3")
        frames = sum(b.shape[0] for b in iter_pcm_blocks(path, input_format="mp3"))
    except EngineError as error:
        return error.code, 0
    return "ok", frames


def test_truncated_mp3_decodes_the_same_way_every_time(truncated_mp3: Path) -> None:
    first = _outcome(truncated_mp3)
    assert first == _outcome(truncated_mp3)


def test_truncated_mp3_yields_the_audio_before_the_cut(truncated_mp3: Path) -> None:
    status, frames = _outcome(truncated_mp3)
    assert status == "ok"
    assert 3.0 * SR < frames < 5.0 * SR


def test_file_with_garbage_after_a_valid_header_is_undecodable(workdir: Path) -> None:
    path = workdir / "garbage.flac"
    path.write_bytes(b"fLaC" + bytes(range(256)) * 64)
    with pytest.raises(EngineError) as raised:
        probe_audio(path, input_format="flac")
    assert raised.value.code == "undecodable_audio"
