"""The /api/v1/analyses/ surface: start, list, read, cancel, and fetch the stored arrays."""

from __future__ import annotations

import gzip
from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from analysis.api.serializers import AnalysisCreateSerializer, AnalysisJobSerializer
from analysis.cache import detail_cache_set, detail_cached_get
from analysis.models import AnalysisJob
from analysis.selectors import (
    analysis_arrays_gzip,
    analysis_audio_analysis_get,
    analysis_job_get_for_user,
    analysis_job_list_for_user,
)
from analysis.services import analysis_job_cancel, analysis_job_create
from core.api.idempotency import idempotent


class AnalysisListCreateApi(generics.ListAPIView[AnalysisJob]):
    """List the caller's analyses (newest first), or start one on an uploaded file."""

    serializer_class = AnalysisJobSerializer

    def get_queryset(self) -> Any:
        return analysis_job_list_for_user(user=request_user(self.request))

    @extend_schema(request=AnalysisCreateSerializer, responses={202: AnalysisJobSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = AnalysisCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = analysis_job_create(
            user=request_user(request),
            media_id=serializer.validated_data["media"],
            features=serializer.validated_data.get("features"),
        )
        return Response(AnalysisJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailApi(APIView):
    """One analysis: status, progress by stage, and the summary result once succeeded."""

    @extend_schema(responses=AnalysisJobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        user = request_user(request)
        cached = detail_cached_get(owner_id=user.pk, job_id=job_id)
        if cached is not None:
            return Response(cached)
        job = analysis_job_get_for_user(user=user, job_id=job_id)
        data = dict(AnalysisJobSerializer(job).data)
        detail_cache_set(job, data)
        return Response(data)


class AnalysisCancelApi(APIView):
    """Cancel a queued or running analysis; its reserved credits are released."""

    @extend_schema(request=None, responses=AnalysisJobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        job = analysis_job_cancel(user=request_user(request), job_id=job_id)
        return Response(AnalysisJobSerializer(job).data)


class AnalysisTimelineApi(APIView):
    """The full per-frame arrays (`timeline`, `waveform`) as JSON, gzip-encoded when accepted."""

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="timeline, waveform")}
    )
    def get(self, request: Request, job_id: int) -> HttpResponse:
        job = analysis_job_get_for_user(user=request_user(request), job_id=job_id)
        compressed = analysis_arrays_gzip(job=job)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response = HttpResponse(compressed, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(gzip.decompress(compressed), content_type="application/json")
        patch_vary_headers(response, ["Accept-Encoding"])
        return response


class AnalysisAudioAnalysisApi(APIView):
    """The result in the structure of Spotify's former Audio Analysis endpoint."""

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request: Request, job_id: int) -> Response:
        job = analysis_job_get_for_user(user=request_user(request), job_id=job_id)
        return Response(analysis_audio_analysis_get(job=job))
