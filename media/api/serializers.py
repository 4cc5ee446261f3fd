from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from core.api.serializers import FieldsBuiltOnceMixin
from media.models import MediaFile


class MediaFileSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer[MediaFile]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    download_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField(
        help_text="The browser-playable preview (Opus in WebM) once `preview_status` is ready."
    )

    class Meta:
        model = MediaFile
        fields = (
            "id",
            "display_name",
            "status",
            "size_bytes",
            "sha256",
            "container",
            "codec",
            "duration_seconds",
            "sample_rate",
            "channels",
            "bit_rate",
            "content_type",
            "preview_status",
            "preview_url",
            "rejection_code",
            "rejection_message",
            "created_at",
            "updated_at",
            "download_url",
        )
        read_only_fields = fields

    def get_download_url(self, media: MediaFile) -> str | None:
        if not media.is_ready:
            return None
        return reverse("api:media-download", kwargs={"media_id": media.public_id})

    def get_preview_url(self, media: MediaFile) -> str | None:
        if not media.is_ready or not media.preview_key:
            return None
        return reverse("api:media-preview", kwargs={"media_id": media.public_id})


class MediaUploadSerializer(serializers.Serializer[None]):
    """Documents the upload body; the view reads the file from its own upload handler."""

    file = serializers.FileField(
        help_text="The audio: .wav, .mp3, .flac, .ogg, .oga, .opus, .m4a, .aac, .aif or .aiff."
    )


class FollowUpOutcomeSerializer(serializers.Serializer[None]):
    """What became of one follow-up asked for with the upload (e.g. `analyse=true`)."""

    status = serializers.CharField(help_text="`started` or `refused`.")
    url = serializers.CharField(required=False, help_text="The API resource it started.")
    page_url = serializers.CharField(required=False, help_text="Its page on the site.")
    code = serializers.CharField(required=False, help_text="Why it was refused.")
    detail = serializers.CharField(required=False)


class MediaUploadResultSerializer(MediaFileSerializer):
    """The accepted upload, and what its follow-ups started (keyed by their field)."""

    follow_ups = serializers.DictField(child=FollowUpOutcomeSerializer(), read_only=True)

    class Meta:
        model = MediaFile
        fields: tuple[str, ...] = (*MediaFileSerializer.Meta.fields, "follow_ups")
        read_only_fields = fields
