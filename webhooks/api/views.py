"""The /api/v1/webhooks/ surface: endpoints, their secrets, test events and the delivery log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from webhooks.api.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEventTypesSerializer,
)
from webhooks.events import event_types
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import (
    webhook_delivery_get_for_user,
    webhook_delivery_list_for_endpoint,
    webhook_endpoint_get_for_user,
    webhook_endpoint_list_for_user,
)
from webhooks.services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)


def _endpoint(request: Request, endpoint_id: UUID) -> WebhookEndpoint:
    return webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)


class WebhookEndpointListCreateApi(generics.ListAPIView[WebhookEndpoint]):
    """List your webhook endpoints, or register one (its secret is in this response only)."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self) -> Any:
        return webhook_endpoint_list_for_user(user=request_user(self.request))

    @extend_schema(
        request=WebhookEndpointCreateSerializer, responses={201: WebhookEndpointCreatedSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(owner=request_user(request), **serializer.validated_data)
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class WebhookEndpointDetailApi(APIView):
    """One endpoint: read it, change its URL, events or enabled state, or delete it."""

    @extend_schema(responses=WebhookEndpointSerializer)
    def get(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses=WebhookEndpointSerializer)
    def patch(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
        webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(APIView):
    """Give the endpoint a new secret; messages carry both signatures for 24 hours."""

    @extend_schema(request=None, responses=WebhookEndpointCreatedSerializer)
    def post(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
        endpoint = webhook_endpoint_rotate_secret(endpoint=endpoint)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data)


class WebhookEndpointTestApi(APIView):
    """Send a `webhook.test` message to the endpoint now."""

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
        delivery = webhook_endpoint_send_test(endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(generics.ListAPIView[WebhookDelivery]):
    """The endpoint's delivery log, newest first: each message with its attempts."""

    serializer_class = WebhookDeliverySerializer

    def get_queryset(self) -> Any:
        endpoint = webhook_endpoint_get_for_user(
            user=request_user(self.request), public_id=self.kwargs["endpoint_id"]
        )
        return webhook_delivery_list_for_endpoint(endpoint=endpoint)


class WebhookDeliveryDetailApi(APIView):
    @extend_schema(responses=WebhookDeliverySerializer)
    def get(self, request: Request, endpoint_id: UUID, delivery_id: UUID) -> Response:
        delivery = webhook_delivery_get_for_user(
            user=request_user(request), endpoint_public_id=endpoint_id, public_id=delivery_id
        )
        return Response(WebhookDeliverySerializer(delivery).data)


class WebhookDeliveryRedeliverApi(APIView):
    """Send the same message (same `webhook-id`) again."""

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, endpoint_id: UUID, delivery_id: UUID) -> Response:
        delivery = webhook_delivery_get_for_user(
            user=request_user(request), endpoint_public_id=endpoint_id, public_id=delivery_id
        )
        delivery = webhook_delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookEventTypesApi(APIView):
    """The event types an endpoint may subscribe to."""

    @extend_schema(responses=WebhookEventTypesSerializer)
    def get(self, request: Request) -> Response:
        return Response({"event_types": list(event_types())})
