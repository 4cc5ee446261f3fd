from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from engine.decode import probe_audio
from tests.support.audio import silent_flac


def test_three_hour_silent_flac_is_probed_from_the_container_without_decoding_it(
    workdir: Path,
) -> None:
    path = silent_flac(10800, workdir / "silence.flac")
    started = time.monotonic()
    probe = probe_audio(path, input_format="flac")
    assert time.monotonic() - started < 5.0
    assert probe.duration == pytest.approx(10800.0, abs=1.0)


def test_wav_whose_header_claims_4_gb_is_probed_without_reading_it_all(workdir: Path) -> None:
    path = workdir / "claims_4gb.wav"
    data = b"\x00\x00" * 44100 * 2
    claimed = 0xFFFFFFF0 - 36
    header = (
        b"RIFF"
        + struct.pack("<I", claimed + 36)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16)
        + b"data"
        + struct.pack("<I", claimed)
    )
    path.write_bytes(header + data)
    started = time.monotonic()
    probe = probe_audio(path, input_format="wav")
    assert time.monotonic() - started < 5.0
    # The demuxer bounds the declared size by the real file size instead of trusting it.
    assert probe.duration == pytest.approx(2.0, abs=0.1)
    assert probe.codec == "pcm_s16le"
