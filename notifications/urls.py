from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.notification_list, name="list"),
    path("status.json", views.notification_status, name="status"),
    path("read/", views.notification_mark_all_read_view, name="mark-all-read"),
    path("email/", views.email_preference_set, name="email-preference"),
    path("<int:notification_id>/", views.notification_open_view, name="open"),
]
