"""The media API: upload, list, read, delete and download audio."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import request_user
from core.api.idempotency import idempotent
from core.api.schema import ProblemAutoSchema
from media.api.serializers import (
    MediaFileSerializer,
    MediaUploadResultSerializer,
    MediaUploadSerializer,
)
from media.follow_ups import FollowUpOutcome, FollowUpStarted, upload_follow_ups
from media.models import MediaFile
from media.selectors import (
    media_get_for_user,
    media_get_preview_for_user,
    media_get_ready_for_user,
    media_list_for_user,
)
from media.services import (
    media_delete,
    media_follow_ups_start,
    media_upload,
    media_upload_rate_limit_check,
)
from media.storage import storage_download_response, storage_stream_response
from media.upload import MediaUploadHandler, media_upload_handler_install, received_upload

PROBLEM = OpenApiResponse(description="problem+json with a `code`")


class MediaUploadSchema(ProblemAutoSchema):
    """The upload body: the file part, and one optional field per registered follow-up.

    Built when the schema is generated, after the packages that offer follow-ups registered.
    """

    def get_request_serializer(self) -> Any:
        properties: dict[str, Any] = {
            "file": {
                "type": "string",
                "format": "binary",
                "description": MediaUploadSerializer().fields["file"].help_text,
            }
        }
        for follow_up in upload_follow_ups():
            properties[follow_up.field] = {
                "type": "boolean",
                "default": False,
                "description": follow_up.description,
            }
        return {
            "multipart/form-data": {
                "type": "object",
                "properties": properties,
                "required": ["file"],
                "additionalProperties": False,
            }
        }


def _requested_follow_ups(request: Request) -> list[str]:
    """The follow-ups asked for with `<field>=true`; raises ValidationError (400) for a value
    that is not a boolean, before anything is stored."""
    requested: list[str] = []
    # A multipart body always parses to a mapping.
    if not isinstance(request.data, dict):
        return requested
    for follow_up in upload_follow_ups():
        value = request.data.get(follow_up.field)
        if value is None:
            continue
        try:
            wanted = serializers.BooleanField().to_internal_value(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({follow_up.field: error.detail}) from error
        if wanted:
            requested.append(follow_up.field)
    return requested


def _outcome_data(outcome: FollowUpOutcome) -> dict[str, str]:
    if isinstance(outcome, FollowUpStarted):
        return {"status": "started", "url": outcome.url, "page_url": outcome.page_url}
    return {"status": "refused", "code": outcome.code, "detail": outcome.detail}


class MediaListCreateApi(generics.ListAPIView[MediaFile]):
    """List the caller's media (newest first), or upload a new file."""

    serializer_class = MediaFileSerializer
    schema = MediaUploadSchema()
    # Only multipart bodies stream through the upload handler; other parsers would read a
    # body of any size into memory.
    parser_classes = [MultiPartParser]

    # Set in dispatch() for POST, before anything reads the request body.
    upload_handler: MediaUploadHandler

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            # Before authentication: the session CSRF check reads the body.
            self.upload_handler = media_upload_handler_install(request)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[MediaFile]:
        return media_list_for_user(user=request_user(self.request))

    # The body is MediaUploadSchema's: the file part and the follow-up fields; other parts are
    # not read, and a malformed one can hide the file.
    @extend_schema(
        responses={
            201: MediaUploadResultSerializer,
            400: PROBLEM,
            413: PROBLEM,
            415: PROBLEM,
            422: PROBLEM,
            429: PROBLEM,
            503: PROBLEM,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = request_user(request)
        media_upload_rate_limit_check(request=request._request, user=user)
        requested = _requested_follow_ups(request)
        upload = received_upload(handler=self.upload_handler, files=request.FILES)
        media = media_upload(user=user, upload=upload)
        outcomes = media_follow_ups_start(user=user, media=media, fields=requested)
        data = dict(MediaFileSerializer(media).data)
        data["follow_ups"] = {field: _outcome_data(outcome) for field, outcome in outcomes.items()}
        return Response(data, status=status.HTTP_201_CREATED)


class MediaDetailApi(APIView):
    """Read or delete one of the caller's media files."""

    @extend_schema(responses={200: MediaFileSerializer, 404: PROBLEM})
    def get(self, request: Request, media_id: UUID) -> Response:
        media = media_get_for_user(user=request_user(request), public_id=media_id)
        return Response(MediaFileSerializer(media).data)

    @extend_schema(responses={204: None, 404: PROBLEM, 503: PROBLEM})
    def delete(self, request: Request, media_id: UUID) -> Response:
        media_delete(user=request_user(request), public_id=media_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MediaDownloadApi(APIView):
    """Download the audio: a presigned redirect (S3) or a streamed attachment (local disk)."""

    @extend_schema(
        responses={
            (200, "audio/*"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="Redirect to a short-lived presigned URL"),
            404: PROBLEM,
            409: PROBLEM,
        }
    )
    def get(self, request: Request, media_id: UUID) -> HttpResponseBase:
        media = media_get_ready_for_user(user=request_user(request), public_id=media_id)
        return storage_download_response(
            key=media.storage_key, filename=media.display_name, content_type=media.content_type
        )


STREAM_RESPONSES = {
    (200, "audio/*"): OpenApiTypes.BINARY,
    (206, "audio/*"): OpenApiResponse(description="The byte range asked for with `Range`"),
    302: OpenApiResponse(description="Redirect to a short-lived presigned URL (S3)"),
    404: PROBLEM,
    409: PROBLEM,
    416: OpenApiResponse(description="The range lies outside the file"),
}


class MediaStreamApi(APIView):
    """The uploaded audio inline, for an `<audio>` element: `Range` requests get 206."""

    @extend_schema(responses=STREAM_RESPONSES)
    def get(self, request: Request, media_id: UUID) -> HttpResponseBase:
        media = media_get_ready_for_user(user=request_user(request), public_id=media_id)
        return storage_stream_response(
            key=media.storage_key,
            content_type=media.content_type,
            range_header=request.headers.get("Range", ""),
        )


class MediaPreviewApi(APIView):
    """The browser-playable preview (Opus in WebM, about 128 kb/s), with `Range` support;
    409 until the worker has made it."""

    @extend_schema(responses=STREAM_RESPONSES)
    def get(self, request: Request, media_id: UUID) -> HttpResponseBase:
        media = media_get_preview_for_user(user=request_user(request), public_id=media_id)
        return storage_stream_response(
            key=media.preview_key,
            content_type=media.preview_content_type,
            range_header=request.headers.get("Range", ""),
        )
