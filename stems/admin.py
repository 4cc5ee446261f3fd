"""Staff view of stem separations: status, timings, errors and where the stems went."""

from __future__ import annotations

from django.contrib import admin

from stems.models import StemSeparationJob


@admin.register(StemSeparationJob)
class StemSeparationJobAdmin(admin.ModelAdmin[StemSeparationJob]):
    list_display = (
        "id",
        "owner",
        "media",
        "status",
        "stage",
        "progress",
        "audio_seconds",
        "processing_seconds",
        "error_code",
        "queued_at",
    )
    list_filter = ("status", "error_code")
    search_fields = ("owner__email", "media__display_name")
    raw_id_fields = ("owner", "media")
    ordering = ("-queued_at",)
    # Jobs change only through the job lifecycle; staff read them here.
    readonly_fields = tuple(field.name for field in StemSeparationJob._meta.fields)

    def has_add_permission(self, request: object) -> bool:
        return False
