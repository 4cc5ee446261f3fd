"""The real URL conf plus API views that fail, for the error-reporting tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from phonoglyph.urls import handler400, handler403, handler404, handler500
from phonoglyph.urls import urlpatterns as real_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class AudioDecodeFailed(RuntimeError):
    pass


class ExplodingMediaApi(APIView):
    def post(self, request: Request) -> Response:
        raise AudioDecodeFailed("decoder crashed on frame 12")


class ExplodingApi(APIView):
    def post(self, request: Request) -> Response:
        raise RuntimeError("unexpected failure with the request data at hand")


class UnavailableApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"code": "unavailable"}, status=503)


class EnqueueStagesApi(APIView):
    """Starts a job on the test worker's queue, as the analysis API starts one on its own."""

    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        from phonoglyph.celery import app
        from tests.monitoring.tasks import analyse_with_stage_spans

        data: dict[str, str] = dict(request.data)
        with app.connection_for_write(data["broker"]) as connection:
            analyse_with_stage_spans.apply_async(
                kwargs={"path": data["path"], "job_id": "job-traced-1"},
                queue=data["queue"],
                connection=connection,  # type: ignore[call-arg]  # accepted via **options
            )
        return Response(status=202)


def exploding_page(request: HttpRequest) -> HttpResponse:
    raise LookupError("the page's template context is missing a key")


failing = [
    path("media/explode/", ExplodingMediaApi.as_view(), name="media-explode"),
    path("explode/", ExplodingApi.as_view(), name="explode"),
    path("unavailable/", UnavailableApi.as_view(), name="unavailable"),
    path("enqueue-stages/", EnqueueStagesApi.as_view(), name="enqueue-stages"),
]

urlpatterns = [
    path("api/v1/", include((failing, "api"), namespace="failing")),
    path("explode-page/", exploding_page, name="explode-page"),
    *real_urlpatterns,
]
