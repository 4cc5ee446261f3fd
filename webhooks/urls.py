from __future__ import annotations

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("<uuid:endpoint_id>/", views.endpoint_detail, name="endpoint-detail"),
    path(
        "<uuid:endpoint_id>/<str:action>/",
        views.endpoint_action,
        name="endpoint-action",
    ),
    path(
        "<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="delivery-redeliver",
    ),
]
