from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from billing.api.serializers import (
    CreditBalanceSerializer,
    TransferSerializer,
    UsageQuerySerializer,
    UsageReportSerializer,
)
from billing.models import Transfer
from billing.selectors import (
    credit_balance_for_user,
    transfer_list_for_user,
    usage_by_day_for_user,
)
from billing.services import credit_account_open
from jobs.references import job_refs_public


class CreditBalanceApi(APIView):
    """The caller's credits: available, reserved by running jobs, and posted."""

    @extend_schema(responses=CreditBalanceSerializer)
    def get(self, request: Request) -> Response:
        user = request_user(request)
        # A new user sees the sign-up bonus, which billing grants when it opens the account.
        credit_account_open(user=user)
        balance = credit_balance_for_user(user=user)
        return Response(CreditBalanceSerializer(asdict(balance)).data)


class TransferListApi(generics.ListAPIView[Transfer]):
    """The caller's credit history, newest first (paginated)."""

    serializer_class = TransferSerializer
    # The public form of the job references on the page being served (paginate_queryset).
    public_refs: dict[str, str]

    def get_queryset(self) -> Any:
        user = request_user(self.request)
        credit_account_open(user=user)
        return transfer_list_for_user(user=user)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        # One lookup per page for the public ids of the jobs its lines were for.
        self.public_refs = job_refs_public(t.job_ref for t in page or [] if t.job_ref)
        return page

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "public_refs": getattr(self, "public_refs", {})}


class UsageApi(APIView):
    """The caller's feature usage summed per UTC day and feature."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First day, YYYY-MM-DD (default: 29 days before today).",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day, YYYY-MM-DD (default: today)."
            ),
            OpenApiParameter("feature", str, enum=["analysis", "stem_separation", "storage"]),
        ],
        responses=UsageReportSerializer,
    )
    def get(self, request: Request) -> Response:
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = usage_by_day_for_user(
            user=request_user(request),
            start=query.validated_data["from"],
            end=query.validated_data["to"],
            feature=query.validated_data.get("feature"),
        )
        report = {
            "from": query.validated_data["from"],
            "to": query.validated_data["to"],
            "results": [asdict(day) for day in days],
        }
        return Response(UsageReportSerializer(report).data)
