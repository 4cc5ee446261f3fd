"""Staff-only monitoring API: pipeline health, processing metrics and alerts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring import health, selectors, services
from monitoring.api.serializers import (
    AlertListQuerySerializer,
    AlertSerializer,
    ProcessingMetricsQuerySerializer,
)
from monitoring.models import Alert
from monitoring.staff import staff_member


class StaffOnly(permissions.IsAdminUser):
    message = "Monitoring is for staff only."


class PipelineHealthApi(APIView):
    """Run every health check now; `overall` names the failing ones."""

    permission_classes = (StaffOnly,)

    @extend_schema(responses={200: dict[str, Any]})
    def get(self, request: Request) -> Response:
        return Response(health.pipeline_health())


class ProcessingMetricsApi(APIView):
    """Totals, rates, percentiles, throughput and a timeline of processing over a range."""

    permission_classes = (StaffOnly,)

    @extend_schema(parameters=[ProcessingMetricsQuerySerializer], responses={200: dict[str, Any]})
    def get(self, request: Request) -> Response:
        query = ProcessingMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        service = query.validated_data["service"]
        chosen = selectors.SERVICES if service == "all" else (service,)
        return Response(
            selectors.processing_metrics(
                time_range=query.validated_data["time_range"], services=chosen, now=timezone.now()
            )
        )


class AlertListApi(generics.ListAPIView[Alert]):
    """Alerts, newest first; `?state=firing|acknowledged|resolved` filters."""

    permission_classes = (StaffOnly,)
    serializer_class = AlertSerializer

    @extend_schema(parameters=[AlertListQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Alert]:
        query = AlertListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.alerts_list(state=query.validated_data.get("state"))


class AlertAcknowledgeApi(APIView):
    """Acknowledge a firing alert: it stops repeating and escalating."""

    permission_classes = (StaffOnly,)

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(selectors.alerts_list(), pk=pk)
        alert = services.alert_acknowledge(alert=alert, user=staff_member(request))
        return Response(AlertSerializer(alert).data)


class AlertResolveApi(APIView):
    """Resolve a firing or acknowledged alert and send the resolved notice."""

    permission_classes = (StaffOnly,)

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(selectors.alerts_list(), pk=pk)
        alert = services.alert_resolve(alert=alert, user=staff_member(request))
        return Response(AlertSerializer(alert).data)
