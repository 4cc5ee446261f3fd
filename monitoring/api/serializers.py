from __future__ import annotations

from typing import Any

from rest_framework import serializers

from monitoring.models import Alert, AlertState
from monitoring.selectors import SERVICES, TIME_RANGES

SERVICE_CHOICES = [*SERVICES, "all"]
LISTED_STATES = [AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.RESOLVED]


class ProcessingMetricsQuerySerializer(serializers.Serializer[dict[str, Any]]):
    time_range = serializers.ChoiceField(choices=list(TIME_RANGES), default="24h")
    service = serializers.ChoiceField(choices=SERVICE_CHOICES, default="all")


class AlertListQuerySerializer(serializers.Serializer[dict[str, Any]]):
    state = serializers.ChoiceField(choices=LISTED_STATES, required=False)


class AlertSerializer(serializers.ModelSerializer[Alert]):
    rule = serializers.CharField(source="rule.name", read_only=True)
    acknowledged_by = serializers.EmailField(
        source="acknowledged_by.email", read_only=True, default=None
    )
    resolved_by = serializers.EmailField(source="resolved_by.email", read_only=True, default=None)

    class Meta:
        model = Alert
        fields = (
            "id",
            "rule",
            "severity",
            "service",
            "state",
            "summary",
            "value",
            "labels",
            "fingerprint",
            "pending_since",
            "fired_at",
            "last_seen",
            "count",
            "last_notified_at",
            "escalation_level",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        )
        read_only_fields = fields
