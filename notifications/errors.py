"""Refusals of the notifications."""

from __future__ import annotations

from core.api.exceptions import DomainError


class NotificationNotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__("No such notification.")
