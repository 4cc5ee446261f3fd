"""Staff surface: rules, alerts, silences and deliveries, and the "Pipeline health" page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from monitoring import dashboard, services
from monitoring.models import Alert, AlertRule, NotificationDelivery, Silence
from monitoring.services import AlertStateConflict
from monitoring.staff import staff_member


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin[AlertRule]):
    list_display = (
        "name",
        "metric",
        "comparison",
        "threshold",
        "window_seconds",
        "for_seconds",
        "severity",
        "enabled",
    )
    list_editable = ("enabled",)
    list_filter = ("severity", "enabled", "metric")
    search_fields = ("name", "description")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = (
        "id",
        "summary",
        "severity",
        "state",
        "service",
        "fired_at",
        "last_seen",
        "count",
        "escalation_level",
    )
    list_filter = ("state", "severity", "service", "rule")
    search_fields = ("summary", "fingerprint")
    readonly_fields = [field.name for field in Alert._meta.fields]
    actions = ("acknowledge_selected", "resolve_selected")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "pipeline-health/",
                view(self.pipeline_health_view),
                name="monitoring_pipeline_health",
            ),
            path(
                "<int:pk>/acknowledge/",
                view(require_POST(self.acknowledge_view)),
                name="monitoring_alert_acknowledge",
            ),
            path(
                "<int:pk>/resolve/",
                view(require_POST(self.resolve_view)),
                name="monitoring_alert_resolve",
            ),
            *super().get_urls(),
        ]

    def pipeline_health_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Pipeline health",
            **dashboard.dashboard_context(now=timezone.now()),
        }
        return TemplateResponse(request, "admin/monitoring/pipeline_health.html", context)

    def _change_state(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        alert = get_object_or_404(Alert, pk=pk)
        try:
            if action == "acknowledge":
                services.alert_acknowledge(alert=alert, user=staff_member(request))
            else:
                services.alert_resolve(alert=alert, user=staff_member(request))
        except AlertStateConflict as refused:
            self.message_user(request, refused.detail, level=messages.WARNING)
        else:
            self.message_user(request, f"Alert #{pk}: {action}d.", level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:monitoring_pipeline_health"))

    def acknowledge_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._change_state(request, pk, "acknowledge")

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._change_state(request, pk, "resolve")

    @admin.action(description="Acknowledge selected firing alerts", permissions=["change"])
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        self._bulk(request, queryset, services.alert_acknowledge)

    @admin.action(description="Resolve selected alerts", permissions=["change"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        self._bulk(request, queryset, services.alert_resolve)

    def _bulk(self, request: HttpRequest, queryset: QuerySet[Alert], action: Any) -> None:
        done, refused = 0, 0
        for alert in queryset:
            try:
                action(alert=alert, user=staff_member(request))
                done += 1
            except AlertStateConflict:
                refused += 1
        self.message_user(request, f"{done} changed, {refused} skipped (wrong state).")


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin[Silence]):
    list_display = ("__str__", "rule", "matchers", "starts_at", "ends_at", "comment", "created_by")
    list_filter = ("rule",)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: Silence, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = staff_member(request).pk
        super().save_model(request, obj, form, change)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin[NotificationDelivery]):
    list_display = (
        "id",
        "alert",
        "channel",
        "kind",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "duration_ms",
        "last_error",
    )
    list_filter = ("status", "channel", "kind")
    readonly_fields = [field.name for field in NotificationDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
