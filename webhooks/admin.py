from __future__ import annotations

from django.contrib import admin

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    list_display = ("id", "owner", "url", "created_at", "failing_since", "disabled_at")
    list_filter = ("disabled_at",)
    search_fields = ("url", "owner__email")
    exclude = ("secret", "previous_secret")
    readonly_fields = ("public_id",)
    raw_id_fields = ("owner",)


class WebhookAttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("number", "created_at", "response_status", "response_ms", "error")
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("message_id", "endpoint", "event_type", "status", "attempts", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("message_id",)
    readonly_fields = ("public_id",)
    raw_id_fields = ("endpoint",)
    inlines = (WebhookAttemptInline,)
