"""Refusals of the stems domain, rendered as problem+json by the API's one handler."""

from __future__ import annotations

from core.api.exceptions import DomainError


class StemJobNotFound(DomainError):
    code = "not_found"
    status = 404


class StemNotFound(DomainError):
    code = "stem_not_found"
    status = 404


class StemJobFinished(DomainError):
    code = "stem_separation_finished"
    status = 409


class StemsNotAvailable(DomainError):
    """The job has not succeeded, or its files went with its media."""

    code = "stems_not_available"
    status = 409


class AudioTooLong(DomainError):
    code = "audio_too_long"
    status = 422
