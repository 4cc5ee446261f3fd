from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from engine.decode import iter_pcm_blocks, probe_audio
from engine.errors import EngineError
from tests.engine.engine_signals import sine
from tests.support.audio import encode


def test_hls_playlist_named_mp3_does_not_open_other_files(workdir: Path) -> None:
    playlist = workdir / "playlist.mp3"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n"
        "#EXTINF:10,\nhttp://127.0.0.1:9/x\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(EngineError) as raised:
        probe_audio(playlist, input_format="mp3")
    assert raised.value.code == "undecodable_audio"
    with pytest.raises(EngineError):
        list(iter_pcm_blocks(playlist, input_format="mp3"))


def test_demuxers_outside_the_allow_list_are_refused(workdir: Path) -> None:
    path = workdir / "x.m3u8"
    path.write_text("#EXTM3U\n")
    for name in ("hls", "concat", "http", "lavfi"):
        with pytest.raises(EngineError) as raised:
            probe_audio(path, input_format=name)
        assert raised.value.code == "unsupported_audio"


def test_a_name_that_looks_like_a_protocol_is_read_as_a_local_file(workdir: Path) -> None:
    odd = workdir / "http:"
    odd.mkdir()
    path = encode(sine(440.0, 1.0, 0.3), odd / "tone.wav")
    assert probe_audio(path, input_format="wav").codec == "pcm_s16le"


def test_wrong_forced_format_is_undecodable(workdir: Path) -> None:
    path = encode(sine(440.0, 1.0, 0.3), workdir / "really_wav.wav")
    with pytest.raises(EngineError) as raised:
        probe_audio(path, input_format="flac")
    assert raised.value.code == "undecodable_audio"


def test_decoder_is_stopped_at_its_wall_clock_deadline(workdir: Path) -> None:
    path = encode(np.zeros((44100 * 60, 2), dtype=np.float32), workdir / "minute.flac")

    def consume_slowly() -> None:
        for _ in iter_pcm_blocks(path, input_format="flac", block_seconds=1.0, timeout=0.2):
            time.sleep(0.1)

    with pytest.raises(EngineError) as raised:
        consume_slowly()
    assert raised.value.code == "timeout"
