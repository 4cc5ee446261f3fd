"""Audio and hostile files for the media tests (`tests.support.audio` encodes the audio)."""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

from tests.support.audio import SAMPLE_RATE

# Every extension an upload may have.
UPLOAD_EXTENSIONS = ("aac", "aif", "aiff", "flac", "m4a", "mp3", "oga", "ogg", "opus", "wav")

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def sine(
    seconds: float, *, sample_rate: int = SAMPLE_RATE, channels: int = 2
) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * sample_rate), dtype=np.float32) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t, dtype=np.float32)
    return np.repeat(tone[:, None], channels, axis=1)


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
