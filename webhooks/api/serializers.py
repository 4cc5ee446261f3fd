from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webhooks.events import event_types
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _events_validate(value: list[str]) -> list[str]:
    known = event_types()
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise serializers.ValidationError(
            f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(known)}."
        )
    return list(dict.fromkeys(value))


ENDPOINT_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "description",
    "events",
    "enabled",
    "disabled_reason",
    "failing_since",
    "created_at",
)


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    enabled = serializers.BooleanField(source="is_enabled", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields: tuple[str, ...] = ENDPOINT_FIELDS
        read_only_fields: tuple[str, ...] = ENDPOINT_FIELDS


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """An endpoint with its signing secret: returned once, at creation and at rotation."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*ENDPOINT_FIELDS, "secret")
        read_only_fields = (*ENDPOINT_FIELDS, "secret")


class WebhookEndpointCreateSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=50
    )
    description = serializers.CharField(max_length=200, required=False, default="")

    def validate_events(self, value: list[str]) -> list[str]:
        return _events_validate(value)


class WebhookEndpointUpdateSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=50, required=False
    )
    description = serializers.CharField(max_length=200, required=False)
    enabled = serializers.BooleanField(required=False)

    def validate_events(self, value: list[str]) -> list[str]:
        return _events_validate(value)


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = ("number", "created_at", "response_status", "response_ms", "error")
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "message_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "attempt_log",
        )
        read_only_fields = fields


class WebhookEventTypesSerializer(serializers.Serializer[Any]):
    event_types = serializers.ListField(child=serializers.CharField())
