"""The upload validation pipeline: plain functions, each refusing with its own error code.

The service runs them in this order and stops at the first refusal: size, extension, content
sniffing, container header, decode probe (in a locked-down child process), virus scan.
Size is also enforced earlier, while the request streams (see `media.upload`).
"""

from __future__ import annotations

import logging
import struct
import unicodedata
from pathlib import Path

import puremagic
from django.conf import settings

from engine.decode import AudioProbe, decodes_at, probe_audio, sniff_audio_format
from engine.errors import EngineError
from media.clamav import ClamavError, clamav_scan
from media.errors import (
    ContentMismatch,
    DurationExceeded,
    EmptyFile,
    FileTooLarge,
    MalwareDetected,
    ScannerUnavailable,
    UndecodableAudio,
    UnsupportedAudio,
    UnsupportedExtension,
)

logger = logging.getLogger(__name__)

# Extension -> the sniffed container families it may hold.
EXTENSION_FORMATS: dict[str, frozenset[str]] = {
    "wav": frozenset({"wav"}),
    "mp3": frozenset({"mp3"}),
    "flac": frozenset({"flac"}),
    "ogg": frozenset({"ogg"}),
    "oga": frozenset({"ogg"}),
    "opus": frozenset({"ogg"}),
    "m4a": frozenset({"mov"}),
    "aac": frozenset({"aac"}),
    "aif": frozenset({"aiff"}),
    "aiff": frozenset({"aiff"}),
}

CONTENT_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "mov": "audio/mp4",
    "aac": "audio/aac",
    "aiff": "audio/aiff",
}

FORMAT_NAMES: dict[str, str] = {
    "wav": "WAV",
    "mp3": "MP3",
    "flac": "FLAC",
    "ogg": "Ogg",
    "mov": "MPEG-4 (M4A)",
    "aac": "AAC",
    "aiff": "AIFF",
}

SNIFF_BYTES = 4096
MAX_DISPLAY_NAME_LENGTH = 255
MAX_CHANNELS = 8
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
# Lossy codecs never go below this rate; a file holding fewer bits per second of its declared
# duration is truncated or has a forged length in its header.
MIN_LOSSY_BIT_RATE = 6000
LOSSY_CODECS = frozenset({"mp3", "mp3float", "aac", "vorbis", "opus"})
# PCM needs all its bytes; a little slack covers rounding of the duration ffmpeg prints.
PCM_SIZE_TOLERANCE = 0.95
# How far before its stated end a file must still decode. FLAC, AIFF and MP3 (Xing/Info) headers
# state the length, so a file cut short reports its whole duration but has no audio near the end.
END_CHECK_SECONDS = 1.0
TOO_SLOW_TO_READ = "Reading the audio took too long; the file may be damaged."

_TEXT_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"#EXTM3U", "an M3U/HLS playlist"),
    (b"[playlist]", "a PLS playlist"),
    (b"#!", "a script"),
    (b"<!doctype html", "an HTML document"),
    (b"<html", "an HTML document"),
    (b"<svg", "an SVG image"),
    (b"<?xml", "an XML document"),
    (b"pk\x03\x04", "a ZIP archive"),
    (b"%pdf", "a PDF document"),
    (b"\x7felf", "an ELF executable"),
    (b"mz", "a Windows executable"),
)


def sanitize_display_name(raw: str) -> str:
    """Return a safe display name: last path part, no control characters, at most 255 chars.

    The name is only ever shown to the owner; storage keys never contain any of it.
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = name.strip()
    if name.strip(".") == "":
        name = ""
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_DISPLAY_NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_DISPLAY_NAME_LENGTH]
    return name


def file_extension(name: str) -> str:
    """Return the lower-case text after the last dot, including for names like `.exe`."""
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""


def validate_size(*, size_bytes: int) -> None:
    """Refuse empty files (400 empty_file) and files over the limit (413 file_too_large)."""
    if size_bytes <= 0:
        raise EmptyFile("The file is empty.")
    limit = settings.PHONOGLYPH_MAX_UPLOAD_BYTES
    if size_bytes > limit:
        raise FileTooLarge(
            f"The file is larger than the {format_bytes(limit)} upload limit.",
            extra={"max_bytes": limit},
        )


def validate_extension(*, name: str) -> str:
    """Return the allowed extension of `name`, or refuse with 415 unsupported_extension."""
    extension = file_extension(name)
    if extension not in EXTENSION_FORMATS:
        allowed = ", ".join(f".{known}" for known in EXTENSION_FORMATS)
        shown = f".{extension}" if extension else "no extension"
        raise UnsupportedExtension(
            f"Files with {shown} are not accepted. Upload audio as one of: {allowed}.",
            extra={"allowed_extensions": sorted(EXTENSION_FORMATS)},
        )
    return extension


def describe_content(head: bytes) -> str:
    """Name what non-audio bytes look like, for a message a person can act on."""
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for signature, description in _TEXT_SIGNATURES:
        if lowered.startswith(signature):
            if signature == b"<?xml" and b"<svg" in lowered:
                return "an SVG image"
            return description
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    if matches:
        return f"{matches[0].name} data"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "plain text"


def validate_content(*, head: bytes, extension: str) -> str:
    """Return the audio container sniffed from the first bytes, consistent with `extension`.

    Raises 415 content_mismatch naming what the bytes are when they are not that audio.
    """
    container = sniff_audio_format(head)
    expected = EXTENSION_FORMATS[extension]
    if container in expected:
        return container
    if container is not None:
        raise ContentMismatch(
            f"The file is named .{extension} but contains {FORMAT_NAMES[container]} audio. "
            f"Rename it to match its format and upload it again.",
            extra={"detected": container},
        )
    raise ContentMismatch(
        f"The file is named .{extension} but is not audio: it looks like {describe_content(head)}.",
        extra={"detected": None},
    )


def validate_container_header(*, head: bytes, size_bytes: int, container: str) -> None:
    """Refuse (422 undecodable_audio) RIFF/AIFF headers declaring more bytes than were sent."""
    declared: int | None = None
    if container == "wav" and len(head) >= 8:
        declared = struct.unpack("<I", head[4:8])[0] + 8
    elif container == "aiff" and len(head) >= 8:
        declared = struct.unpack(">I", head[4:8])[0] + 8
    # One byte of slack: chunks are padded to even sizes and some writers omit the pad.
    if declared is not None and declared > size_bytes + 1:
        raise UndecodableAudio(
            f"The {FORMAT_NAMES[container]} header declares {format_bytes(declared)} but the "
            f"file holds {format_bytes(size_bytes)}: it is truncated or damaged."
        )


def validate_audio(*, path: Path, container: str, size_bytes: int) -> AudioProbe:
    """Probe the audio in a locked-down child process and apply the audio policy.

    Raises 422 undecodable_audio, duration_exceeded (judged from the container, before decoding
    it all) or unsupported_audio (absurd channel count or sample rate).
    """
    try:
        probe = probe_audio(
            path,
            input_format=container,
            timeout=settings.PHONOGLYPH_PROBE_TIMEOUT_SECONDS,
        )
    except EngineError as error:
        if error.code == "unsupported_audio":
            raise UnsupportedAudio(error.message) from error
        if error.code == "timeout":
            raise UndecodableAudio(TOO_SLOW_TO_READ) from error
        raise UndecodableAudio(error.message) from error
    max_duration = settings.PHONOGLYPH_MAX_DURATION_SECONDS
    if probe.duration > max_duration:
        raise DurationExceeded(
            f"The audio is {format_duration(probe.duration)} long; the limit is "
            f"{format_duration(max_duration)}.",
            extra={"duration_seconds": probe.duration, "max_duration_seconds": max_duration},
        )
    if not 1 <= probe.channels <= MAX_CHANNELS:
        raise UnsupportedAudio(
            f"The audio has {probe.channels} channels; at most {MAX_CHANNELS} are supported."
        )
    if not MIN_SAMPLE_RATE <= probe.sample_rate <= MAX_SAMPLE_RATE:
        raise UnsupportedAudio(
            f"The audio's sample rate is {probe.sample_rate} Hz; supported rates are "
            f"{MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz."
        )
    _check_length_plausible(probe=probe, size_bytes=size_bytes)
    _check_end_decodes(path=path, container=container, probe=probe)
    return probe


def _check_length_plausible(*, probe: AudioProbe, size_bytes: int) -> None:
    carried_bit_rate = size_bytes * 8 / probe.duration
    if probe.codec.startswith("pcm_") and probe.bit_rate:
        truncated = carried_bit_rate < probe.bit_rate * PCM_SIZE_TOLERANCE
    else:
        truncated = probe.codec in LOSSY_CODECS and carried_bit_rate < MIN_LOSSY_BIT_RATE
    if truncated:
        raise UndecodableAudio(
            f"The file's header promises {format_duration(probe.duration)} of audio but it "
            f"holds only {format_bytes(size_bytes)}: it is truncated or damaged."
        )


def _check_end_decodes(*, path: Path, container: str, probe: AudioProbe) -> None:
    # The probe decoded the first seconds; a clip shorter than the window has nothing more.
    if probe.duration <= END_CHECK_SECONDS:
        return
    try:
        whole = decodes_at(
            path,
            input_format=container,
            start_seconds=probe.duration - END_CHECK_SECONDS,
            timeout=settings.PHONOGLYPH_PROBE_TIMEOUT_SECONDS,
        )
    except EngineError as error:
        raise UndecodableAudio(TOO_SLOW_TO_READ) from error
    if not whole:
        raise UndecodableAudio(
            f"The file's header promises {format_duration(probe.duration)} of audio but its end "
            "does not decode: it is truncated or damaged."
        )


def scan_for_malware(*, path: Path) -> None:
    """Scan with ClamAV when CLAMAV_URL is set: 422 malware_detected, or 503 when unreachable.

    The scan fails closed: without a verdict the upload is refused.
    """
    url = settings.CLAMAV_URL
    if not url:
        return
    try:
        signature = clamav_scan(url=url, path=path, timeout=settings.CLAMAV_TIMEOUT_SECONDS)
    except ClamavError as error:
        logger.error("virus scanner unavailable, upload refused: %s", error)
        raise ScannerUnavailable(
            "The virus scanner is unavailable, so uploads are paused. Try again later."
        ) from error
    if signature is not None:
        logger.warning("upload refused by the virus scanner", extra={"signature": signature})
        raise MalwareDetected(
            f"The virus scanner flagged the file ({signature}).",
            extra={"signature": signature},
        )


def format_bytes(size: int) -> str:
    """Format a byte count the way people read it: 512 bytes, 4.0 KB, 200.0 MB, 1.5 GB."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def format_duration(seconds: float) -> str:
    """Format seconds as h:mm:ss or m:ss."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
