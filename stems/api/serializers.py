from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import PublicIdField
from stems.models import StemSeparationJob
from stems.selectors import stems_available


class StemSeparationCreateSerializer(serializers.Serializer[Any]):
    media = PublicIdField(help_text="The `id` of one of your uploads.")


class StemSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    provenance = serializers.ChoiceField(
        choices=["model", "dsp"], help_text="A trained model, or signal processing."
    )
    method = serializers.CharField()
    size_bytes = serializers.IntegerField()
    peak = serializers.FloatField()
    download = serializers.CharField()
    analyse = serializers.CharField()


class StemSeparationJobSerializer(serializers.ModelSerializer[StemSeparationJob]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    media = serializers.UUIDField(source="media.public_id", read_only=True)
    error = serializers.SerializerMethodField()
    stems = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = StemSeparationJob
        fields = (
            "id",
            "media",
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
            "channels",
            "sample_rate",
            "stems",
            "links",
        )
        read_only_fields = fields

    def get_error(self, job: StemSeparationJob) -> dict[str, str] | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}

    @extend_schema_field(StemSerializer(many=True))
    def get_stems(self, job: StemSeparationJob) -> list[dict[str, Any]]:
        """The stems with their download links; empty until success and after media deletion."""
        if not stems_available(job):
            return []
        return [
            {
                "name": entry["name"],
                "provenance": entry["source"],
                "method": entry["method"],
                "size_bytes": entry["size_bytes"],
                "peak": entry["peak"],
                "download": reverse("api:stem-download", args=[job.public_id, entry["name"]]),
                "analyse": reverse("api:stem-analyse", args=[job.public_id, entry["name"]]),
            }
            for entry in job.stem_list
        ]

    def get_links(self, job: StemSeparationJob) -> dict[str, str]:
        return {
            "self": reverse("api:stem-separation-detail", args=[job.public_id]),
            "cancel": reverse("api:stem-separation-cancel", args=[job.public_id]),
            "page": reverse("stems:job-detail", args=[job.public_id]),
        }
