from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.models import AnalysisJob
from core.api.fields import PublicIdField
from core.api.serializers import FieldsBuiltOnceMixin
from engine.features import FEATURES


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(FEATURES)},
        "maxItems": 2 * len(FEATURES),
    }
)
class FeatureListField(serializers.ListField):
    """The schema names the features; the service checks them (see AnalysisCreateSerializer)."""


class AnalysisCreateSerializer(serializers.Serializer[Any]):
    media = PublicIdField(help_text="The `id` of one of your uploads.")
    # Names are checked by the service so an unknown one gets the list of allowed features.
    features = FeatureListField(
        child=serializers.CharField(max_length=32),
        required=False,
        allow_empty=True,
        max_length=len(FEATURES) * 2,
        help_text=f"Any of: {', '.join(FEATURES)}. Omitted or empty means all.",
    )


class AnalysisErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class AnalysisJobSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer[AnalysisJob]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    media = serializers.UUIDField(source="media.public_id", read_only=True)
    error = serializers.SerializerMethodField()
    reused = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisJob
        fields = (
            "id",
            "media",
            "features",
            "status",
            "stage",
            "progress",
            "attempts",
            "error",
            "queued_at",
            "started_at",
            "finished_at",
            "processing_seconds",
            "engine_version",
            "audio_seconds",
            "credits_reserved",
            "reused",
            "result",
            "links",
        )
        read_only_fields = fields

    def get_error(self, job: AnalysisJob) -> dict[str, str] | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}

    def get_reused(self, job: AnalysisJob) -> bool:
        return job.reused_from_id is not None

    def get_links(self, job: AnalysisJob) -> dict[str, str]:
        return {
            "self": reverse("api:analysis-detail", args=[job.public_id]),
            "timeline": reverse("api:analysis-timeline", args=[job.public_id]),
            "audio_analysis": reverse("api:analysis-audio-analysis", args=[job.public_id]),
            "cancel": reverse("api:analysis-cancel", args=[job.public_id]),
            "page": reverse("analysis:job-detail", args=[job.public_id]),
        }
