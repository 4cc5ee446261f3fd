from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.decode import probe_audio, sniff_audio_format
from tests.engine.engine_signals import SR, sine
from tests.support.audio import encode

CASES = [
    ("wav", "wav", "pcm_s16le", 44100),
    ("flac", "flac", "flac", 44100),
    ("mp3", "mp3", "mp3", 44100),
    ("ogg", "ogg", "vorbis", 44100),
    ("opus", "ogg", "opus", 48000),
    ("m4a", "mov", "aac", 44100),
    ("aac", "aac", "aac", 44100),
    ("aiff", "aiff", "pcm_s16be", 44100),
]


@pytest.fixture(scope="module")
def encoded(workdir: Path) -> dict[str, Path]:
    tone = sine(440.0, 3.0, 0.5)
    stereo = np.stack([tone, tone], axis=1)
    return {suffix: encode(stereo, workdir / f"tone.{suffix}") for suffix, *_ in CASES}


@pytest.mark.parametrize(("suffix", "container", "codec", "rate"), CASES)
def test_each_supported_format_is_sniffed_and_probed_with_its_codec_rate_channels_and_duration(
    encoded: dict[str, Path], suffix: str, container: str, codec: str, rate: int
) -> None:
    path = encoded[suffix]
    detected = sniff_audio_format(path.read_bytes()[:64])
    assert detected == container
    probe = probe_audio(path, input_format=container)
    assert probe.container == container
    assert probe.codec == codec
    assert probe.sample_rate == rate
    assert probe.channels == 2
    assert probe.duration == pytest.approx(3.0, abs=0.1)
    assert probe.bit_rate is None or probe.bit_rate > 0


def test_unknown_bytes_are_not_sniffed_as_audio() -> None:
    assert sniff_audio_format(b"#EXTM3U\nfile:///etc/passwd\n") is None
    assert sniff_audio_format(b"") is None
    assert sniff_audio_format(b"<html>" + b"\x00" * 60) is None


def test_mono_wav_reports_one_channel(workdir: Path) -> None:
    path = encode(sine(220.0, 1.0, 0.3), workdir / "mono.wav", sample_rate=SR)
    assert probe_audio(path, input_format="wav").channels == 1
