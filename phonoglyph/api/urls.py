"""The versioned API surface: every app mounts its `api/urls.py` here under /api/v1/."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # The stock template carries an inline <style> that the site's CSP refuses.
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    path("", include("accounts.api.urls")),
    path("", include("media.api.urls")),
    path("", include("analysis.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("stems.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("webhooks.api.urls")),
]
