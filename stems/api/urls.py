from __future__ import annotations

from django.urls import path

from stems.api import views

urlpatterns = [
    path("stems/", views.StemSeparationListCreateApi.as_view(), name="stem-separation-list"),
    path(
        "stems/<uuid:job_id>/",
        views.StemSeparationDetailApi.as_view(),
        name="stem-separation-detail",
    ),
    path(
        "stems/<uuid:job_id>/cancel/",
        views.StemSeparationCancelApi.as_view(),
        name="stem-separation-cancel",
    ),
    path(
        "stems/<uuid:job_id>/<str:stem>.flac",
        views.StemDownloadApi.as_view(),
        name="stem-download",
    ),
    path(
        "stems/<uuid:job_id>/<str:stem>/analyse/",
        views.StemAnalyseApi.as_view(),
        name="stem-analyse",
    ),
]
