from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from analysis import views

app_name = "analysis"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.job_list, name="job-list"),
    path("new/", views.job_new, name="job-new"),
    path("sample-track/", views.sample_track_start, name="sample-track-start"),
    path("<uuid:job_id>/", views.job_detail, name="job-detail"),
    path("<uuid:job_id>/progress/", views.job_progress, name="job-progress"),
    path("<uuid:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("<uuid:job_id>/download.json", views.job_download_json, name="job-download-json"),
    path("<uuid:job_id>/download.csv", views.job_download_csv, name="job-download-csv"),
]
