"""The single exception type the engine raises for anything a user should be told about."""

from __future__ import annotations


class EngineError(Exception):
    """An analysis failure with a stable machine-readable ``code`` and a user-readable message.

    Codes: ``undecodable_audio``, ``unsupported_audio``, ``timeout``, ``engine_crash``,
    ``feature_failed``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
