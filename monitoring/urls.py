from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.exposition import metrics_view
from monitoring.views import healthz, readyz

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
