"""Request fields shared by every API package."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rest_framework import serializers


class PublicIdField(serializers.UUIDField):
    """The public id of an object, as a UUID string.

    DRF's UUIDField reads an integer as the UUID with that value; here an integer (an id of the
    earlier API) is refused as malformed, so the client is told to send the id it was given
    instead of being told that the object does not exist.
    """

    default_error_messages = {
        "invalid": "Must be an id as the API returns it: a UUID string.",
    }

    def to_internal_value(self, data: Any) -> UUID:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        value: UUID = super().to_internal_value(data)
        return value
