"""Locked-down decoding of untrusted audio files.

Uploaded bytes never reach Essentia's own loaders: its wheel bundles an old FFmpeg that would
auto-detect any format and follow any protocol. Instead the current FFmpeg binary shipped by
``imageio-ffmpeg`` runs in a child process that

* may only open local files (``-protocol_whitelist file``, input given as ``file:<abs path>`` so
  a file name can never be read as another protocol or as an option),
* must use an explicitly named demuxer from :data:`ALLOWED_INPUT_FORMATS` (no probing, so
  playlist, concat and network demuxers are unreachable),
* runs under resource limits (CPU time, address space, no file creation, few descriptors, no
  core dumps) and a wall-clock deadline after which it is killed.
"""

from __future__ import annotations

import math
import os
import re
import resource
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import numpy.typing as npt

from engine.errors import EngineError

ALLOWED_INPUT_FORMATS: frozenset[str] = frozenset(
    {"wav", "mp3", "flac", "ogg", "mov", "aac", "aiff"}
)

_MEMORY_LIMIT_BYTES = 1 << 30
_OPEN_FILES_LIMIT = 32
# Without a wall-clock deadline the CPU limit is the only bound left; one hour of CPU is far
# beyond what decoding any accepted upload needs.
_DEFAULT_CPU_SECONDS = 3600
_STDERR_TAIL_LINES = 200

_CHANNEL_LAYOUTS: dict[str, int] = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "3.0(back)": 3,
    "4.0": 4,
    "quad": 4,
    "quad(side)": 4,
    "3.1": 4,
    "5.0": 5,
    "5.0(side)": 5,
    "4.1": 5,
    "5.1": 6,
    "5.1(side)": 6,
    "6.0": 6,
    "hexagonal": 6,
    "6.1": 7,
    "7.0": 7,
    "7.1": 8,
    "7.1(wide)": 8,
    "octagonal": 8,
}

_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_BITRATE_RE = re.compile(r"bitrate:\s*(\d+)\s*kb/s")
_AUDIO_STREAM_RE = re.compile(
    r"Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([A-Za-z0-9_]+)[^,]*, (\d+) Hz, ([^,]+),"
)
_AUDIO_OUT_RE = re.compile(r"audio:(\d+(?:\.\d+)?)([KMG]?i?B)")


@dataclass(frozen=True)
class AudioProbe:
    container: str
    codec: str
    duration: float
    sample_rate: int
    channels: int
    bit_rate: int | None


def ffmpeg_executable() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def sniff_audio_format(head: bytes) -> str | None:
    """Return the allowed demuxer name whose magic bytes start ``head``, else None."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mov"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync; layer bits 00 are reserved for MPEG audio and mean ADTS AAC.
        if head[1] & 0xF6 == 0xF0:
            return "aac"
        if head[1] & 0x06 != 0:
            return "mp3"
    return None


def _limit_child(cpu_seconds: int, file_bytes: int = 0) -> None:
    # Runs in the forked child before exec: the limits bind ffmpeg, not this process.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT_BYTES, _MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (_OPEN_FILES_LIMIT, _OPEN_FILES_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _input_args(
    path: str | os.PathLike[str],
    input_format: str,
    *,
    loglevel: str,
    start_seconds: float = 0.0,
) -> list[str]:
    if input_format not in ALLOWED_INPUT_FORMATS:
        allowed = ", ".join(sorted(ALLOWED_INPUT_FORMATS))
        raise EngineError(
            "unsupported_audio",
            f"Audio format {input_format!r} is not accepted; accepted formats: {allowed}.",
        )
    absolute = Path(path).resolve()
    if not absolute.is_file():
        raise EngineError("undecodable_audio", "The audio file does not exist.")
    return [
        ffmpeg_executable(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        loglevel,
        "-threads",
        "1",
        "-protocol_whitelist",
        "file",
        *(["-ss", f"{start_seconds:.3f}"] if start_seconds > 0 else []),
        "-f",
        input_format,
        "-i",
        f"file:{absolute}",
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
    ]


def _cpu_budget(timeout: float | None) -> int:
    return _DEFAULT_CPU_SECONDS if timeout is None else max(1, math.ceil(timeout)) + 1


def _spawn(
    args: list[str], timeout: float | None, *, file_bytes: int = 0
) -> subprocess.Popen[bytes]:
    """Start ffmpeg under the limits; `file_bytes` bounds the one file a transcode writes."""
    cpu_seconds = _cpu_budget(timeout)
    # The argument list is built here from constants, an allow-listed demuxer name and a
    # resolved path behind the "file:" protocol prefix; no shell is involved.
    return subprocess.Popen(  # noqa: S603
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: _limit_child(cpu_seconds, file_bytes),
        close_fds=True,
    )


def _failure_from_returncode(returncode: int, timed_out: bool, stderr_tail: str) -> EngineError:
    if timed_out or returncode == -signal.SIGXCPU:
        return EngineError("timeout", "Decoding the audio took too long and was stopped.")
    if returncode < 0:
        return EngineError(
            "engine_crash", f"The audio decoder stopped unexpectedly (signal {-returncode})."
        )
    detail = _last_meaningful_line(stderr_tail)
    suffix = f" ({detail})" if detail else ""
    return EngineError("undecodable_audio", f"The audio file could not be decoded{suffix}.")


def _last_meaningful_line(stderr_text: str) -> str:
    for line in reversed(stderr_text.splitlines()):
        stripped = line.strip()
        if stripped and not stripped.startswith(("size=", "[out#", "Press [q]")):
            return stripped[:200]
    return ""


def _parse_channels(layout: str) -> int | None:
    layout = layout.strip()
    if layout in _CHANNEL_LAYOUTS:
        return _CHANNEL_LAYOUTS[layout]
    match = re.fullmatch(r"(\d+) channels(?: \(.*\))?", layout)
    return int(match.group(1)) if match else None


def _audio_bytes_written(stderr_text: str) -> float:
    match = _AUDIO_OUT_RE.search(stderr_text)
    if match is None:
        return 0.0
    scale = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "kB": 1000, "MB": 1000**2}
    return float(match.group(1)) * scale.get(match.group(2), 1)


def probe_audio(
    path: str | os.PathLike[str],
    *,
    input_format: str,
    timeout: float = 20.0,
    probe_seconds: float = 5.0,
) -> AudioProbe:
    """Read container metadata and decode the first ``probe_seconds`` in a locked-down child.

    Raises ``EngineError('undecodable_audio')`` when the container or its first seconds do not
    decode.
    """
    text, returncode, timed_out = _decode_window(
        path, input_format, start_seconds=0.0, seconds=probe_seconds, timeout=timeout
    )
    if timed_out or returncode != 0:
        raise _failure_from_returncode(returncode, timed_out, text)
    return _parse_probe(text, input_format)


def _decode_window(
    path: str | os.PathLike[str],
    input_format: str,
    *,
    start_seconds: float,
    seconds: float,
    timeout: float,
) -> tuple[str, int, bool]:
    """Decode `seconds` from `start_seconds` into nothing; return ffmpeg's log, exit code and
    whether the time ran out."""
    # No -xerror: it also fails files whose header promises more data than they hold (an
    # interrupted upload), which decode fine up to the cut. Damage is detected instead by
    # requiring decoded samples in the output statistics.
    args = [
        *_input_args(path, input_format, loglevel="info", start_seconds=start_seconds),
        "-t",
        f"{seconds:.3f}",
        "-f",
        "null",
        "-",
    ]
    proc = _spawn(args, timeout)
    try:
        _, stderr = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        timed_out = True
    return stderr.decode("utf-8", errors="replace"), proc.returncode, timed_out


def decodes_at(
    path: str | os.PathLike[str],
    *,
    input_format: str,
    start_seconds: float,
    timeout: float = 20.0,
    window_seconds: float = 0.5,
) -> bool:
    """True when audio decodes from ``start_seconds`` on, in the same locked-down child.

    Headers (FLAC's STREAMINFO, an MP3's Xing frame) state a file's length; decoding a moment
    just before that length is how a file cut short is told from a whole one without decoding
    all of it.
    """
    text, _, timed_out = _decode_window(
        path,
        input_format,
        start_seconds=start_seconds,
        seconds=window_seconds,
        timeout=timeout,
    )
    if timed_out:
        raise EngineError("timeout", "Decoding the audio took too long and was stopped.")
    return _audio_bytes_written(text) > 0


def _parse_probe(text: str, input_format: str) -> AudioProbe:
    input_section = text.split("Stream mapping:", 1)[0]
    duration_match = _DURATION_RE.search(input_section)
    stream_match = _AUDIO_STREAM_RE.search(input_section)
    if duration_match is None or stream_match is None:
        raise EngineError(
            "undecodable_audio",
            "The file has no audio stream with a known duration.",
        )
    hours, minutes, seconds = duration_match.groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    channels = _parse_channels(stream_match.group(3))
    if channels is None or duration <= 0:
        raise EngineError("undecodable_audio", "The audio stream layout is not understood.")
    if _audio_bytes_written(text) <= 0:
        raise EngineError("undecodable_audio", "The first seconds of audio do not decode.")
    bitrate_match = _BITRATE_RE.search(input_section)
    return AudioProbe(
        container=input_format,
        codec=stream_match.group(1),
        duration=duration,
        sample_rate=int(stream_match.group(2)),
        channels=channels,
        bit_rate=int(bitrate_match.group(1)) * 1000 if bitrate_match else None,
    )


class _StderrTail:
    """Drains the child's stderr so it cannot block on a full pipe, keeping the last lines."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._lines: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._thread = threading.Thread(target=self._drain, args=(proc,), daemon=True)
        self._thread.start()

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.stderr is None:
            return
        for raw in proc.stderr:
            self._lines.append(raw.decode("utf-8", errors="replace"))

    def text(self) -> str:
        self._thread.join(timeout=5)
        return "".join(self._lines)


def iter_pcm_blocks(
    path: str | os.PathLike[str],
    *,
    input_format: str,
    sample_rate: int = 44100,
    channels: int = 2,
    block_seconds: float = 10.0,
    timeout: float | None = None,
    max_seconds: float | None = None,
) -> Generator[npt.NDArray[np.float32], None, None]:
    """Stream float32 PCM blocks of shape ``(frames, channels)`` from the locked-down child.

    Every block but the last holds exactly ``round(block_seconds * sample_rate)`` frames.
    """
    if sample_rate <= 0 or channels <= 0 or block_seconds <= 0:
        raise ValueError("sample_rate, channels and block_seconds must be positive")
    # Damage later in a long file is skipped by the decoder rather than failing the whole run;
    # the probe has already rejected files whose start does not decode.
    args = _input_args(path, input_format, loglevel="error")
    if max_seconds is not None:
        args += ["-t", f"{max_seconds:.3f}"]
    args += [
        "-ac",
        str(channels),
        "-ar",
        str(sample_rate),
        "-c:a",
        "pcm_f32le",
        "-f",
        "f32le",
        "pipe:1",
    ]
    frames_per_block = max(1, round(block_seconds * sample_rate))
    bytes_per_block = frames_per_block * channels * 4
    proc = _spawn(args, timeout)
    stderr_tail = _StderrTail(proc)
    expired = threading.Event()
    timer: threading.Timer | None = None
    if timeout is not None:
        timer = threading.Timer(timeout, _kill_on_deadline, args=(proc, expired))
        timer.daemon = True
        timer.start()
    try:
        if proc.stdout is None:
            raise EngineError("engine_crash", "The audio decoder could not be started.")
        carry = b""
        while True:
            chunk = proc.stdout.read(bytes_per_block - len(carry))
            if not chunk:
                break
            carry += chunk
            if len(carry) == bytes_per_block:
                yield _to_frames(carry, channels)
                carry = b""
        returncode = proc.wait()
        if expired.is_set() or returncode != 0:
            raise _failure_from_returncode(returncode, expired.is_set(), stderr_tail.text())
        usable = len(carry) - len(carry) % (channels * 4)
        if usable:
            yield _to_frames(carry[:usable], channels)
    finally:
        if timer is not None:
            timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _kill_on_deadline(proc: subprocess.Popen[bytes], expired: threading.Event) -> None:
    if proc.poll() is None:
        expired.set()
        proc.kill()


def _to_frames(raw: bytes, channels: int) -> npt.NDArray[np.float32]:
    return np.frombuffer(raw, dtype="<f4").reshape(-1, channels).astype(np.float32, copy=True)
