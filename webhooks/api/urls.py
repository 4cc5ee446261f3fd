from __future__ import annotations

from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks/", views.WebhookEndpointListCreateApi.as_view(), name="webhook-list"),
    path("webhooks/event-types/", views.WebhookEventTypesApi.as_view(), name="webhook-event-types"),
    path(
        "webhooks/<uuid:endpoint_id>/",
        views.WebhookEndpointDetailApi.as_view(),
        name="webhook-detail",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/rotate-secret/",
        views.WebhookEndpointRotateSecretApi.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/test/",
        views.WebhookEndpointTestApi.as_view(),
        name="webhook-test",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/",
        views.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/",
        views.WebhookDeliveryDetailApi.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver/",
        views.WebhookDeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
