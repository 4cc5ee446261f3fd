"""The /api/v1/analyses/ surface: start, list, read, cancel, and fetch the stored arrays."""

from __future__ import annotations

import gzip
import json
import math
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from analysis.api.serializers import AnalysisCreateSerializer, AnalysisJobSerializer
from analysis.cache import detail_cache_set, detail_cached_get
from analysis.models import AnalysisJob
from analysis.selectors import (
    analysis_arrays_gzip_for_user,
    analysis_audio_analysis_gzip_for_user,
    analysis_job_get_for_user,
    analysis_job_list_for_user,
)
from analysis.services import analysis_job_cancel, analysis_job_create
from analysis.timeline import ENCODINGS, analysis_timeline_window
from core.api.idempotency import idempotent


class AnalysisListCreateApi(generics.ListAPIView[AnalysisJob]):
    """List the caller's analyses (newest first), or start one on an uploaded file."""

    serializer_class = AnalysisJobSerializer
    # Starting a job costs more of the caller's request budget (accounts.api.throttling).
    rate_limit_costs = {"POST": 10}

    def get_queryset(self) -> Any:
        return analysis_job_list_for_user(user=request_user(self.request))

    @extend_schema(request=AnalysisCreateSerializer, responses={202: AnalysisJobSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = AnalysisCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = analysis_job_create(
            user=request_user(request),
            media_public_id=serializer.validated_data["media"],
            features=serializer.validated_data.get("features"),
        )
        return Response(AnalysisJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailApi(APIView):
    """One analysis: status, progress by stage, and the summary result once succeeded."""

    @extend_schema(responses=AnalysisJobSerializer)
    def get(self, request: Request, job_id: UUID) -> Response:
        user = request_user(request)
        cached = detail_cached_get(owner_id=user.pk, public_id=job_id)
        if cached is not None:
            return Response(cached)
        job = analysis_job_get_for_user(user=user, public_id=job_id)
        data = dict(AnalysisJobSerializer(job).data)
        detail_cache_set(job, data)
        return Response(data)


class AnalysisCancelApi(APIView):
    """Cancel a queued or running analysis; its reserved credits are released."""

    @extend_schema(request=None, responses=AnalysisJobSerializer)
    def post(self, request: Request, job_id: UUID) -> Response:
        job = analysis_job_cancel(user=request_user(request), public_id=job_id)
        return Response(AnalysisJobSerializer(job).data)


WINDOW_PARAMETERS = ("start", "end", "resolution", "encoding")


def _seconds(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValidationError({name: "Give a non-negative number."})
    return value


def _gzip_if_accepted(request: Request, compressed: bytes) -> HttpResponse:
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(compressed), content_type="application/json")
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


class AnalysisTimelineApi(APIView):
    """The per-frame arrays (`timeline`, `waveform`), whole or as a window.

    Without parameters: everything as stored. With `start`, `end` (seconds), `resolution`
    (at most this many points per second) or `encoding=q8` (quantised bytes, base64): the
    part in [start, end) reduced to the resolution; see docs/audio-analysis.md.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("start", float, description="window start (s), default 0"),
            OpenApiParameter("end", float, description="window end (s), default the end"),
            OpenApiParameter("resolution", float, description="at most this many points/s"),
            OpenApiParameter("encoding", str, enum=list(ENCODINGS), description="json or q8"),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="timeline, waveform")},
    )
    def get(self, request: Request, job_id: UUID) -> HttpResponse:
        user = request_user(request)
        if not any(name in request.query_params for name in WINDOW_PARAMETERS):
            return _gzip_if_accepted(
                request, analysis_arrays_gzip_for_user(user=user, public_id=job_id)
            )
        job = analysis_job_get_for_user(user=user, public_id=job_id)
        encoding = request.query_params.get("encoding") or "json"
        if encoding not in ENCODINGS:
            raise ValidationError({"encoding": f"Use one of: {', '.join(ENCODINGS)}."})
        resolution = _seconds(request, "resolution")
        if resolution == 0:
            raise ValidationError({"resolution": "Give a positive number."})
        window = analysis_timeline_window(
            job=job,
            start=_seconds(request, "start") or 0.0,
            end=_seconds(request, "end"),
            resolution=resolution,
            encoding=encoding,
        )
        body = json.dumps(window, separators=(",", ":")).encode()
        return _gzip_if_accepted(request, gzip.compress(body, compresslevel=6))


class AnalysisAudioAnalysisApi(APIView):
    """The result in the structure of Spotify's former Audio Analysis endpoint.

    Sent as stored (gzip JSON, decompressed for a client that does not accept gzip): the view
    never changes once built, so it is not parsed and rendered again for every request.
    """

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request: Request, job_id: UUID) -> HttpResponse:
        user = request_user(request)
        return _gzip_if_accepted(
            request, analysis_audio_analysis_gzip_for_user(user=user, public_id=job_id)
        )
