"""A browser-playable copy of an upload: Opus in WebM at about 128 kb/s.

Every accepted upload format (AIFF, FLAC, Ogg, ADTS AAC, ...) is not playable in every
browser; Opus in WebM is, in Chromium, Firefox and Safari 15 and later, and is royalty-free.
The transcode runs in the same locked-down ffmpeg child as decoding (``engine.decode``: an
allow-listed demuxer, local files only, CPU, memory and descriptor limits, a deadline). The
one difference is that it writes one file, so file creation is allowed up to a size bound
computed from the duration and the bit rate; ffmpeg is killed by the kernel past it.

The WebM muxer writes its seek index (Cues) at the end of a seekable output, which is why the
output is a file and not a pipe: without Cues a browser cannot seek in the preview.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.decode import _failure_from_returncode, _input_args, _spawn
from engine.errors import EngineError

PREVIEW_CONTENT_TYPE = "audio/webm"
PREVIEW_EXTENSION = "webm"
PREVIEW_BIT_RATE = 128_000
# Opus runs at 48 kHz whatever the input; two channels are enough to listen to a mix.
_OPUS_SAMPLE_RATE = 48_000
_CHANNELS = 2
# VBR overshoot, the container's headers and its index, with plenty of margin.
_SIZE_FACTOR = 1.5
_SIZE_MARGIN_BYTES = 1 << 20


@dataclass(frozen=True)
class Preview:
    path: Path
    content_type: str
    size_bytes: int


def preview_size_bound(*, duration_seconds: float, bit_rate: int = PREVIEW_BIT_RATE) -> int:
    """The most bytes a preview of `duration_seconds` may take before ffmpeg is stopped."""
    return int(max(0.0, duration_seconds) * bit_rate / 8 * _SIZE_FACTOR) + _SIZE_MARGIN_BYTES


def transcode_preview(
    path: str | os.PathLike[str],
    *,
    input_format: str,
    output: str | os.PathLike[str],
    duration_seconds: float,
    timeout: float = 600.0,
    bit_rate: int = PREVIEW_BIT_RATE,
) -> Preview:
    """Write the preview of `path` (demuxed as `input_format`) to the new file `output`.

    `duration_seconds` (the upload's validated duration) bounds the output's size. Raises
    EngineError ('undecodable_audio', 'timeout', 'engine_crash') when ffmpeg fails; a partial
    output is removed.
    """
    target = Path(output).resolve()
    if target.exists():
        raise ValueError(f"{target} exists; the preview is always written to a new file")
    args = [
        *_input_args(path, input_format, loglevel="error"),
        "-map_metadata",
        "-1",
        "-ac",
        str(_CHANNELS),
        "-ar",
        str(_OPUS_SAMPLE_RATE),
        "-c:a",
        "libopus",
        "-b:a",
        str(bit_rate),
        "-f",
        "webm",
        f"file:{target}",
    ]
    limit = preview_size_bound(duration_seconds=duration_seconds, bit_rate=bit_rate)
    proc = _spawn(args, timeout, file_bytes=limit)
    try:
        _, stderr = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        timed_out = True
    if timed_out or proc.returncode != 0 or not target.is_file():
        target.unlink(missing_ok=True)
        raise _failure_from_returncode(
            proc.returncode, timed_out, stderr.decode("utf-8", errors="replace")
        )
    size = target.stat().st_size
    if size == 0:
        target.unlink()
        raise EngineError("undecodable_audio", "The audio produced no preview.")
    return Preview(path=target, content_type=PREVIEW_CONTENT_TYPE, size_bytes=size)
