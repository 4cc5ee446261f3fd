"""The validation helpers on their own: names, extensions and what content looks like."""

from __future__ import annotations

import pytest

from media.errors import ContentMismatch, UnsupportedExtension
from media.validation import (
    describe_content,
    file_extension,
    format_bytes,
    sanitize_display_name,
    validate_content,
    validate_extension,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.wav", "passwd.wav"),
        ("C:\\Users\\me\\song.mp3", "song.mp3"),
        ("bad\x00name\x1b[31m.wav", "badname[31m.wav"),
        ("  spaced.flac  ", "spaced.flac"),
        ("..", ""),
        ("Caf\u0065\u0301.wav", "Café.wav"),
    ],
)
def test_display_names_are_sanitised(raw: str, expected: str):
    assert sanitize_display_name(raw) == expected


def test_long_display_names_keep_their_extension():
    name = sanitize_display_name("x" * 400 + ".aiff")

    assert len(name) == 255
    assert name.endswith("x.aiff")


@pytest.mark.parametrize(
    ("name", "extension"), [(".exe", "exe"), ("a.tar.gz", "gz"), ("noext", ""), ("A.WAV", "wav")]
)
def test_file_extension_takes_the_text_after_the_last_dot(name: str, extension: str):
    assert file_extension(name) == extension


def test_unknown_extensions_are_refused_with_the_allowed_list():
    with pytest.raises(UnsupportedExtension) as refused:
        validate_extension(name="track.wma")

    assert "wav" in refused.value.extra["allowed_extensions"]


@pytest.mark.parametrize(
    ("head", "description"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (b"#!/bin/sh\nrm -rf /\n", "a script"),
        (b"[playlist]\nFile1=http://example.com/a.mp3\n", "a PLS playlist"),
        (b"\xef\xbb\xbf<html>", "an HTML document"),
        (b"\x00\x01\x02\x03\xff\xfe\xfd", "unrecognised binary data"),
    ],
)
def test_non_audio_content_is_named(head: bytes, description: str):
    assert describe_content(head) == description


@pytest.mark.parametrize(
    ("extension", "head"),
    [
        ("m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00"),
        ("opus", b"OggS\x00\x02" + b"\x00" * 20),
        ("aac", b"\xff\xf1\x50\x80\x02\x1f\xfc"),
        ("aif", b"FORM\x00\x00\x10\x00AIFFCOMM"),
    ],
)
def test_extensions_accept_their_own_audio_family(extension: str, head: bytes):
    assert validate_content(head=head, extension=extension)


def test_an_m4a_extension_does_not_accept_adts_aac():
    with pytest.raises(ContentMismatch):
        validate_content(head=b"\xff\xf1\x50\x80\x02\x1f\xfc", extension="m4a")


def test_byte_counts_read_like_people_write_them():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(200 * 1024 * 1024) == "200.0 MB"
    assert format_bytes(2 * 1024**3) == "2.0 GB"
