"""Refusals are counted by code for monitoring and logged for staff; names never leave."""

from __future__ import annotations

import hashlib

from prometheus_client import REGISTRY

from media.models import UploadRejection


def _rejections(code: str) -> float:
    value = REGISTRY.get_sample_value("phonoglyph_upload_rejections_total", {"code": code})
    return value or 0.0


def test_a_refused_upload_is_counted_by_code_and_recorded_for_staff(user, upload):
    content = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    before = _rejections("content_mismatch")

    upload("secret-client-name.mp3", content)

    assert _rejections("content_mismatch") == before + 1
    rejection = UploadRejection.objects.get()
    assert rejection.user == user
    assert rejection.code == "content_mismatch"
    assert rejection.size_bytes == len(content)
    assert rejection.sha256 == hashlib.sha256(content).hexdigest()
    assert rejection.created_at is not None


def test_an_oversized_upload_is_counted_without_a_hash(settings, upload, audio):
    settings.PHONOGLYPH_MAX_UPLOAD_BYTES = 1024
    before = _rejections("file_too_large")

    upload("tone.wav", audio["wav"])

    assert _rejections("file_too_large") == before + 1
    rejection = UploadRejection.objects.get()
    assert rejection.sha256 == ""
    assert rejection.size_bytes > 1024


def test_accepted_uploads_are_not_counted_as_rejections(upload, audio):
    before = {code: _rejections(code) for code in ("content_mismatch", "undecodable_audio")}

    assert upload("tone.wav", audio["wav"]).status_code == 201

    assert {code: _rejections(code) for code in before} == before
    assert not UploadRejection.objects.exists()
