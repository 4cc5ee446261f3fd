from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.exposition import metrics_view

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metrics", metrics_view, name="metrics"),
]
