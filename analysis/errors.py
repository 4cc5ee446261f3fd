"""Refusals of the analysis domain, rendered as problem+json by the API's one handler."""

from __future__ import annotations

from core.api.exceptions import DomainError


class UnknownFeature(DomainError):
    code = "unknown_feature"
    status = 400


class AnalysisJobNotFound(DomainError):
    code = "not_found"
    status = 404


class AudioTooLong(DomainError):
    code = "audio_too_long"
    status = 422


class AnalysisJobFinished(DomainError):
    code = "analysis_finished"
    status = 409


class AnalysisNotSucceeded(DomainError):
    code = "analysis_not_succeeded"
    status = 409


class AnalysisFeatureMissing(DomainError):
    code = "feature_not_requested"
    status = 409
