from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from stems import views

app_name = "stems"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.job_list, name="job-list"),
    path("new/", views.job_new, name="job-new"),
    path("<uuid:job_id>/", views.job_detail, name="job-detail"),
    path("<uuid:job_id>/progress/", views.job_progress, name="job-progress"),
    path("<uuid:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("<uuid:job_id>/<str:stem>/analyse/", views.stem_analyse, name="stem-analyse"),
]
