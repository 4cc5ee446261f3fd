from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from media import views

app_name = "media"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.library, name="library"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:media_id>/", views.detail, name="detail"),
    path("<uuid:media_id>/delete/", views.delete, name="delete"),
]
