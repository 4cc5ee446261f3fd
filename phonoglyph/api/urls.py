"""The versioned API surface: every app mounts its `api/urls.py` here under /api/v1/."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("accounts.api.urls")),
    path("", include("media.api.urls")),
    path("", include("analysis.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("monitoring.api.urls")),
]
