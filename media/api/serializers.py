from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from media.models import MediaFile


class MediaFileSerializer(serializers.ModelSerializer[MediaFile]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    download_url = serializers.SerializerMethodField()

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


class MediaUploadSerializer(serializers.Serializer[None]):
    """Documents the upload body; the view reads the file from its own upload handler."""

    file = serializers.FileField(
        help_text="The audio: .wav, .mp3, .flac, .ogg, .oga, .opus, .m4a, .aac, .aif or .aiff."
    )
