from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from core.api.exceptions import api_path_unknown
from phonoglyph import views

handler400 = "core.api.exceptions.bad_request"
handler403 = "core.api.exceptions.permission_denied"
handler404 = "core.api.exceptions.page_not_found"
handler500 = "core.api.exceptions.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("welcome/", views.welcome, name="welcome"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("account/webhooks/", include("webhooks.urls")),
    path("account/", include("accounts.urls")),
    path("media/", include("media.urls")),
    path("analyses/", include("analysis.urls")),
    path("stems/", include("stems.urls")),
    path("credits/", include("billing.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("monitoring.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("phonoglyph.api.urls", "api"), namespace="api")),
    re_path(r"^api/", api_path_unknown, name="api-path-unknown"),
]
