"""Write audio files from float samples: the one encoder of the tests and of `bench/`.

`encode` pipes float32 PCM to the ffmpeg the engine decodes with and picks the format from the
file's suffix; `write_wav` writes 16-bit PCM WAV with the standard library alone, for fixtures
that make many files. Both take one array (frames x channels, or mono frames) or an iterable of
such blocks, written one at a time, so a long file is never held whole in memory.

It lives here, beside its main users, and `bench/` imports it: the bench scripts run from the
repository root (`python -m bench.accuracy`), where `tests` is importable, and nothing under
`tests/` imports `bench/`, so the arrow points one way, bench -> tests.support. It imports only
NumPy and the engine's ffmpeg locator: no Django, no settings, no test fixture.
"""

from __future__ import annotations

import itertools
import subprocess
import wave
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.decode import ffmpeg_executable

SAMPLE_RATE = 44100
# Counted from the end of the input: a minute of audio encodes in well under a second.
ENCODE_TIMEOUT_SECONDS = 120

FloatArray = npt.NDArray[np.float32]
Samples = FloatArray | Iterable[FloatArray]


@dataclass(frozen=True)
class Format:
    codec: str
    muxer: str
    # The codec's own rate where it accepts no other (Opus); None keeps the input's rate.
    sample_rate: int | None = None


# The suffixes `encode` writes, each with the codec and container it stands for.
FORMATS: dict[str, Format] = {
    "wav": Format("pcm_s16le", "wav"),
    "mp3": Format("libmp3lame", "mp3"),
    "flac": Format("flac", "flac"),
    "ogg": Format("libvorbis", "ogg"),
    "oga": Format("flac", "oga"),
    "opus": Format("libopus", "opus", sample_rate=48000),
    "m4a": Format("aac", "ipod"),
    "aac": Format("aac", "adts"),
    "aif": Format("pcm_s16be", "aiff"),
    "aiff": Format("pcm_s16be", "aiff"),
}

_FFMPEG_QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def _frames(samples: Samples) -> Iterator[FloatArray]:
    """Yield `samples` as 2-D float32 blocks (frames x channels); a mono block gets one column."""
    blocks: Iterable[FloatArray] = [samples] if isinstance(samples, np.ndarray) else samples
    for block in blocks:
        yield np.ascontiguousarray(block.reshape(block.shape[0], -1), dtype="<f4")


def encode(
    samples: Samples,
    path: Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    encoder_options: Sequence[str] = (),
) -> Path:
    """Encode `samples` at `sample_rate` into `path`, in the format its suffix names.

    `encoder_options` go to ffmpeg after the codec (`["-q:a", "4"]` for a VBR MP3).
    Raises KeyError for a suffix not in FORMATS and CalledProcessError when ffmpeg fails.
    """
    target = FORMATS[path.suffix.lstrip(".").lower()]
    frames = _frames(samples)
    first = next(frames)
    command = [
        ffmpeg_executable(),
        *_FFMPEG_QUIET,
        *["-f", "f32le", "-ar", str(sample_rate), "-ac", str(first.shape[1]), "-i", "pipe:0"],
        *(["-ar", str(target.sample_rate)] if target.sample_rate else []),
        *["-c:a", target.codec, *encoder_options, "-f", target.muxer, str(path)],
    ]
    # The trusted bundled ffmpeg, on arguments built right here.
    process = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert process.stdin is not None
    # An ffmpeg that exits early closes the pipe; its exit status says why.
    with suppress(BrokenPipeError):
        for block in itertools.chain([first], frames):
            process.stdin.write(block.tobytes())
        process.stdin.close()
    try:
        status = process.wait(timeout=ENCODE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    if status != 0:
        raise subprocess.CalledProcessError(status, command)
    return path


def write_wav(path: Path, samples: Samples, *, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write `samples` as 16-bit PCM WAV (a 44-byte header), clipping them to [-1, 1]."""
    with wave.open(str(path), "wb") as handle:
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        for index, block in enumerate(_frames(samples)):
            if index == 0:
                handle.setnchannels(block.shape[1])
            handle.writeframesraw((np.clip(block, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    # `wave` writes the final frame count into the header when it closes the file.
    return path


def silent_flac(seconds: float, path: Path, *, sample_rate: int = 8000) -> Path:
    """A long silent mono FLAC, generated inside ffmpeg: tiny on disk, long to decode."""
    subprocess.run(
        [
            ffmpeg_executable(),
            *_FFMPEG_QUIET,
            *["-f", "lavfi", "-i", f"anullsrc=r={sample_rate}:cl=mono", "-t", str(seconds)],
            *["-compression_level", "0", "-c:a", "flac", str(path)],
        ],
        check=True,
        timeout=ENCODE_TIMEOUT_SECONDS,
    )
    return path
