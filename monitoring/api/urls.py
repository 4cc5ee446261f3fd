from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "monitoring/pipeline-health/",
        views.PipelineHealthApi.as_view(),
        name="monitoring-pipeline-health",
    ),
    path(
        "monitoring/processing-metrics/",
        views.ProcessingMetricsApi.as_view(),
        name="monitoring-processing-metrics",
    ),
    path("monitoring/alerts/", views.AlertListApi.as_view(), name="monitoring-alert-list"),
    path(
        "monitoring/alerts/<int:pk>/acknowledge/",
        views.AlertAcknowledgeApi.as_view(),
        name="monitoring-alert-acknowledge",
    ),
    path(
        "monitoring/alerts/<int:pk>/resolve/",
        views.AlertResolveApi.as_view(),
        name="monitoring-alert-resolve",
    ),
]
