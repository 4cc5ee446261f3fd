from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from media.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("media/", views.MediaListCreateApi.as_view(), name="media-list"),
    path("media/<int:media_id>/", views.MediaDetailApi.as_view(), name="media-detail"),
    path(
        "media/<int:media_id>/download/",
        views.MediaDownloadApi.as_view(),
        name="media-download",
    ),
    path("media/<int:media_id>/stream/", views.MediaStreamApi.as_view(), name="media-stream"),
    path("media/<int:media_id>/preview/", views.MediaPreviewApi.as_view(), name="media-preview"),
]
