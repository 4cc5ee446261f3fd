from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from media.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("media/", views.MediaListCreateApi.as_view(), name="media-list"),
    path("media/<uuid:media_id>/", views.MediaDetailApi.as_view(), name="media-detail"),
    path(
        "media/<uuid:media_id>/download/",
        views.MediaDownloadApi.as_view(),
        name="media-download",
    ),
    path("media/<uuid:media_id>/stream/", views.MediaStreamApi.as_view(), name="media-stream"),
    path("media/<uuid:media_id>/preview/", views.MediaPreviewApi.as_view(), name="media-preview"),
]
