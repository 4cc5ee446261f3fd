from __future__ import annotations

from django.urls import path

from analysis.api import views

urlpatterns = [
    path("analyses/", views.AnalysisListCreateApi.as_view(), name="analysis-list"),
    path("analyses/<uuid:job_id>/", views.AnalysisDetailApi.as_view(), name="analysis-detail"),
    path(
        "analyses/<uuid:job_id>/timeline/",
        views.AnalysisTimelineApi.as_view(),
        name="analysis-timeline",
    ),
    path(
        "analyses/<uuid:job_id>/audio-analysis/",
        views.AnalysisAudioAnalysisApi.as_view(),
        name="analysis-audio-analysis",
    ),
    path(
        "analyses/<uuid:job_id>/cancel/", views.AnalysisCancelApi.as_view(), name="analysis-cancel"
    ),
]
