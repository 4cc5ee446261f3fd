"""Refusals of the media domain, each with a stable `code` mapped to problem+json."""

from __future__ import annotations

from core.api.exceptions import DomainError


class UploadRejected(DomainError):
    """A refused upload; every subclass is counted and logged for staff by its `code`."""


class FileTooLarge(UploadRejected):
    code = "file_too_large"
    status = 413


class EmptyFile(UploadRejected):
    code = "empty_file"
    status = 400


class UnsupportedExtension(UploadRejected):
    code = "unsupported_extension"
    status = 415


class ContentMismatch(UploadRejected):
    code = "content_mismatch"
    status = 415


class UndecodableAudio(UploadRejected):
    code = "undecodable_audio"
    status = 422


class DurationExceeded(UploadRejected):
    code = "duration_exceeded"
    status = 422


class UnsupportedAudio(UploadRejected):
    code = "unsupported_audio"
    status = 422


class MalwareDetected(UploadRejected):
    code = "malware_detected"
    status = 422


class ScannerUnavailable(UploadRejected):
    code = "scanner_unavailable"
    status = 503


class QuotaExceeded(UploadRejected):
    code = "quota_exceeded"
    status = 413


class ExcessiveMetadata(UploadRejected):
    code = "excessive_metadata"
    status = 422


class FileMissing(DomainError):
    code = "missing_file"
    status = 400


class UploadRateLimited(DomainError):
    code = "rate_limited"
    status = 429


class MediaNotFound(DomainError):
    code = "not_found"
    status = 404


class MediaNotAvailable(DomainError):
    code = "media_not_available"
    status = 409


class StorageUnavailable(DomainError):
    code = "storage_unavailable"
    status = 503
