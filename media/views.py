"""Server-rendered media pages: upload, library, detail and delete."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.api.authentication import request_user
from accounts.models import User
from core.api.exceptions import DomainError
from media.errors import MediaNotFound
from media.follow_ups import FollowUpStarted, upload_follow_ups
from media.forms import MediaUploadForm
from media.models import MediaFile
from media.selectors import media_get_for_user, media_list_for_user, media_storage_used_bytes
from media.services import (
    media_delete,
    media_follow_ups_start,
    media_upload,
    media_upload_rate_limit_check,
)
from media.upload import MediaUploadHandler, media_upload_handler_install, received_upload
from media.validation import format_bytes

LIBRARY_PAGE_SIZE = 20


def _media_or_404(request: HttpRequest, media_id: UUID) -> MediaFile:
    try:
        return media_get_for_user(user=request_user(request), public_id=media_id)
    except MediaNotFound as missing:
        raise Http404(missing.detail) from missing


@login_required
def library(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    page = Paginator(media_list_for_user(user=user), LIBRARY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    used = media_storage_used_bytes(user=user)
    quota = settings.PHONOGLYPH_USER_QUOTA_BYTES
    return render(
        request,
        "media/library.html",
        {
            "page": page,
            "used": format_bytes(used),
            "quota": format_bytes(quota),
            "used_percent": min(100, round(used * 100 / quota)) if quota else 100,
        },
    )


def _upload_context(user: User, form: MediaUploadForm, error: str = "") -> dict[str, object]:
    return {
        "form": form,
        # What may start on the file right away ("Analyse after upload"), as checkboxes.
        "follow_ups": [
            {"field": follow_up.field, "offer": follow_up.offer(user)}
            for follow_up in upload_follow_ups()
        ],
        "error": error,
        "max_upload": format_bytes(settings.PHONOGLYPH_MAX_UPLOAD_BYTES),
        "max_upload_bytes": settings.PHONOGLYPH_MAX_UPLOAD_BYTES,
        "max_minutes": settings.PHONOGLYPH_MAX_DURATION_SECONDS // 60,
    }


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    """The upload page; its POST works as a plain form, the page's script uses the API.

    CSRF is checked by the inner view, after the streaming upload handler is installed:
    the check reads the body, and Django's default handlers must never see it.
    """
    handler = media_upload_handler_install(request) if request.method == "POST" else None
    return _upload_protected(request, handler)


@csrf_protect
@login_required
def _upload_protected(request: HttpRequest, handler: MediaUploadHandler | None) -> HttpResponse:
    user = request_user(request)
    if handler is None:
        return render(request, "media/upload.html", _upload_context(user, MediaUploadForm()))
    try:
        media_upload_rate_limit_check(request=request, user=user)
        received = received_upload(handler=handler, files=request.FILES)
        media = media_upload(user=user, upload=received)
    except DomainError as refusal:
        response = render(
            request,
            "media/upload.html",
            _upload_context(user, MediaUploadForm(), error=refusal.detail),
            status=refusal.status,
        )
        if "retry_after" in refusal.extra:
            response["Retry-After"] = str(refusal.extra["retry_after"])
        return response
    messages.success(request, f"“{media.display_name}” was uploaded.")
    outcomes = media_follow_ups_start(
        user=user,
        media=media,
        fields=[field for field in request.POST if request.POST.get(field) == "true"],
    )
    for outcome in outcomes.values():
        if isinstance(outcome, FollowUpStarted):
            return redirect(outcome.page_url)
        messages.error(request, f"The file is kept, but nothing was started: {outcome.detail}")
    return redirect("media:detail", media_id=media.public_id)


@login_required
def detail(request: HttpRequest, media_id: UUID) -> HttpResponse:
    media = _media_or_404(request, media_id)
    return render(request, "media/detail.html", {"media": media})


@login_required
def delete(request: HttpRequest, media_id: UUID) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    media = _media_or_404(request, media_id)
    if request.method != "POST":
        return render(request, "media/delete_confirm.html", {"media": media})
    try:
        media_delete(user=request_user(request), public_id=media.public_id)
    except DomainError as failure:
        messages.error(request, failure.detail)
        return redirect("media:detail", media_id=media.public_id)
    messages.success(request, f"“{media.display_name or 'The upload'}” was deleted.")
    return redirect("media:library")
