"""Real audio for the media tests, encoded with the ffmpeg binary of imageio-ffmpeg."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 44100

# extension -> (codec, muxer, sample rate)
ENCODINGS: dict[str, tuple[str, str, int]] = {
    "wav": ("pcm_s16le", "wav", SAMPLE_RATE),
    "mp3": ("libmp3lame", "mp3", SAMPLE_RATE),
    "flac": ("flac", "flac", SAMPLE_RATE),
    "ogg": ("libvorbis", "ogg", SAMPLE_RATE),
    "oga": ("flac", "oga", SAMPLE_RATE),
    "opus": ("libopus", "opus", 48000),
    "m4a": ("aac", "ipod", SAMPLE_RATE),
    "aac": ("aac", "adts", SAMPLE_RATE),
    "aif": ("pcm_s16be", "aiff", SAMPLE_RATE),
    "aiff": ("pcm_s16be", "aiff", SAMPLE_RATE),
}

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def sine(
    seconds: float, *, sample_rate: int = SAMPLE_RATE, channels: int = 2
) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * sample_rate), dtype=np.float32) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t, dtype=np.float32)
    return np.repeat(tone[:, None], channels, axis=1)


def encode(
    samples: npt.NDArray[np.float32],
    extension: str,
    destination: Path,
    *,
    encoder_options: Sequence[str] = (),
) -> Path:
    """Encode float32 `samples` (frames, channels) with ffmpeg into `destination`."""
    codec, muxer, sample_rate = ENCODINGS[extension]
    channels = samples.shape[1]
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "f32le",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            str(channels),
            "-i",
            "pipe:0",
            "-ar",
            str(sample_rate),
            "-c:a",
            codec,
            *encoder_options,
            "-f",
            muxer,
            str(destination),
        ],
        input=samples.astype("<f4").tobytes(),
        check=True,
        timeout=120,
    )
    return destination


def silent_flac(seconds: float, destination: Path, *, sample_rate: int = 8000) -> Path:
    """A long silent FLAC: tiny on disk, long to decode."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"anullsrc=r={sample_rate}:cl=mono",
            "-t",
            str(seconds),
            "-compression_level",
            "0",
            "-c:a",
            "flac",
            str(destination),
        ],
        check=True,
        timeout=120,
    )
    return destination


def wav_with_riff_size(wav: bytes, riff_size: int) -> bytes:
    return wav[:4] + struct.pack("<I", riff_size) + wav[8:]


def wav_with_extra_chunk(wav: bytes, chunk_id: bytes, payload: bytes) -> bytes:
    """Append a RIFF chunk after the existing ones and fix the RIFF size."""
    if len(payload) % 2:
        payload += b"\0"
    body = wav + chunk_id + struct.pack("<I", len(payload)) + payload
    return wav_with_riff_size(body, len(body) - 8)


def elf_binary() -> bytes:
    """A minimal 64-bit ELF header followed by padding."""
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    return header + b"\0" * 256
