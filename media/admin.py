"""Staff surface: uploads with their rejection codes, storage per user, the rejection log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from media.models import MediaFile, UploadRejection
from media.selectors import media_storage_by_owner


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin[MediaFile]):
    list_display = (
        "id",
        "display_name",
        "owner",
        "status",
        "container",
        "codec",
        "duration_seconds",
        "size_bytes",
        "rejection_code",
        "created_at",
    )
    list_filter = ("status", "preview_status", "rejection_code", "container")
    search_fields = ("display_name", "owner__email", "sha256", "storage_key")
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    readonly_fields = tuple(field.name for field in MediaFile._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "storage_by_owner": media_storage_by_owner()}
        return super().changelist_view(request, extra_context=context)


@admin.register(UploadRejection)
class UploadRejectionAdmin(admin.ModelAdmin[UploadRejection]):
    list_display = ("created_at", "code", "user", "size_bytes", "sha256")
    list_filter = ("code",)
    search_fields = ("user__email", "sha256")
    date_hierarchy = "created_at"
    readonly_fields = ("user", "code", "size_bytes", "sha256", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
