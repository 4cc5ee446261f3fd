"""The OpenAPI schema lists the problem+json errors every operation can answer with.

DRF and the problem handler (core.api.exceptions) can refuse any operation for the same
reasons: a malformed request (400), no or a bad key (401), no permission (403), nothing at
that path (404), an Accept it cannot serve (406), the rate limit (429, with Retry-After);
a request with a body also for its size (413) and its media type (415). A view documents the
refusals of its own domain (402, 409, 422, 503, ...) with `extend_schema(responses=...)`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 7807 problem: `code` is stable, `detail` is for people.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status", "detail", "instance", "code"],
    "additionalProperties": True,
}
_DESCRIPTIONS = {
    400: "The request is malformed or has invalid fields.",
    401: "No API key, or an invalid or revoked one.",
    402: "Not enough credits.",
    403: "Not allowed.",
    404: "No such resource (another user's resources are not found either).",
    406: "The Accept header asks for a type this operation cannot serve.",
    409: "Conflicts with the resource's current state.",
    413: "The request body is too large.",
    415: "The request body's media type is not accepted.",
    422: "Understood but refused.",
    429: "Over the plan's request budget or concurrent jobs; see Retry-After.",
    503: "A service this operation depends on is unavailable; retry later.",
}
EVERY_OPERATION = (400, 401, 403, 404, 406, 429)
WITH_BODY = (413, 415)


# DRF's CharField refuses NUL characters (400) in any text it parses.
NO_NUL = "^[^\\x00]*$"
_PLAIN_TEXT_FIELDS = (serializers.CharField,)
_FORMATTED_TEXT_FIELDS = (
    serializers.EmailField,
    serializers.URLField,
    serializers.RegexField,
    serializers.SlugField,
    serializers.IPAddressField,
    serializers.UUIDField,
)


class ProblemAutoSchema(AutoSchema):
    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        """A text field of a request says it takes no NUL character, as DRF enforces."""
        # drf-spectacular leaves _map_serializer_field unannotated.
        schema: dict[str, Any] = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        if (
            direction == "request"
            and isinstance(field, _PLAIN_TEXT_FIELDS)
            and not isinstance(field, _FORMATTED_TEXT_FIELDS)
            and schema.get("type") == "string"
            and "pattern" not in schema
            and "format" not in schema
        ):
            schema["pattern"] = NO_NUL
        return schema

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        # drf-spectacular leaves ResolvedComponent.__init__ unannotated.
        component = ResolvedComponent(  # type: ignore[no-untyped-call]
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(component)
        statuses = list(EVERY_OPERATION)
        if method.upper() in ("POST", "PUT", "PATCH"):
            statuses += WITH_BODY
        responses = operation["responses"]
        for status in sorted(statuses):
            key = str(status)
            if key in responses and "content" in responses[key]:
                continue
            response: dict[str, Any] = {
                "description": responses.get(key, {}).get("description") or _DESCRIPTIONS[status],
                "content": {"application/problem+json": {"schema": component.ref}},
            }
            if status == 429:
                response["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "Seconds to wait before trying again.",
                    }
                }
            responses[key] = response
        return operation
