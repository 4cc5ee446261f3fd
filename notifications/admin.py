from __future__ import annotations

from django.contrib import admin

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("id", "owner", "title", "outcome", "created_at", "read_at")
    list_filter = ("outcome", "job_kind")
    search_fields = ("owner__email", "title")
    raw_id_fields = ("owner",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin[NotificationPreference]):
    list_display = ("user", "email_on_job_end")
    raw_id_fields = ("user",)
