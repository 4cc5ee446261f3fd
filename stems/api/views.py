"""The /api/v1/stems/ surface: start, list, read, cancel, download a stem, analyse a stem."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from analysis.api.serializers import AnalysisJobSerializer
from core.api.idempotency import idempotent
from stems.api.ranges import ranged_download_response
from stems.api.serializers import StemSeparationCreateSerializer, StemSeparationJobSerializer
from stems.models import StemSeparationJob
from stems.results import FLAC_CONTENT_TYPE
from stems.selectors import (
    stem_get_for_user,
    stem_separation_job_get_for_user,
    stem_separation_job_list_for_user,
)
from stems.services import (
    stem_analysis_start,
    stem_separation_job_cancel,
    stem_separation_job_create,
)


class StemSeparationListCreateApi(generics.ListAPIView[StemSeparationJob]):
    """List the caller's stem separations (newest first), or start one on an uploaded file."""

    serializer_class = StemSeparationJobSerializer

    def get_queryset(self) -> Any:
        return stem_separation_job_list_for_user(user=request_user(self.request))

    @extend_schema(
        request=StemSeparationCreateSerializer, responses={202: StemSeparationJobSerializer}
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = StemSeparationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = stem_separation_job_create(
            user=request_user(request), media_public_id=serializer.validated_data["media"]
        )
        return Response(StemSeparationJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class StemSeparationDetailApi(APIView):
    """One separation: status, progress, and its stems with download links once succeeded."""

    @extend_schema(responses=StemSeparationJobSerializer)
    def get(self, request: Request, job_id: UUID) -> Response:
        job = stem_separation_job_get_for_user(user=request_user(request), public_id=job_id)
        return Response(StemSeparationJobSerializer(job).data)


class StemSeparationCancelApi(APIView):
    """Cancel a queued or running separation; its reserved credits are released."""

    @extend_schema(request=None, responses=StemSeparationJobSerializer)
    def post(self, request: Request, job_id: UUID) -> Response:
        job = stem_separation_job_cancel(user=request_user(request), public_id=job_id)
        return Response(StemSeparationJobSerializer(job).data)


class StemDownloadApi(APIView):
    """One stem as FLAC, for its owner only; byte ranges on local disk, a presigned redirect on
    S3."""

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="FLAC")})
    def get(self, request: Request, job_id: UUID, stem: str) -> HttpResponseBase:
        job, entry = stem_get_for_user(user=request_user(request), public_id=job_id, stem=stem)
        base = job.media.display_name.rsplit(".", 1)[0]
        return ranged_download_response(
            key=entry["key"],
            filename=f"{base} ({stem}).flac",
            content_type=FLAC_CONTENT_TYPE,
            range_header=request.headers.get("Range", ""),
        )


class StemAnalyseApi(APIView):
    """Analyse one stem: it becomes an upload of the caller's, then an analysis job."""

    @extend_schema(request=None, responses={202: AnalysisJobSerializer})
    @idempotent
    def post(self, request: Request, job_id: UUID, stem: str) -> Response:
        job = stem_analysis_start(user=request_user(request), public_id=job_id, stem=stem)
        return Response(AnalysisJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
