"""Server-rendered analysis pages: start, follow live, see the pictures, download."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.api.authentication import request_user
from analysis.errors import AnalysisJobNotFound
from analysis.forms import AnalysisStartForm
from analysis.models import AnalysisJob
from analysis.selectors import (
    analysis_arrays_get,
    analysis_job_get_for_user,
    analysis_job_list_for_user,
    analysis_job_progress,
    analysis_job_progress_for_user,
)
from analysis.services import (
    analysis_job_cancel,
    analysis_job_create,
    analysis_sample_track_start,
    analysis_time_limits,
)
from billing.selectors import price_for
from core.api.exceptions import DomainError
from engine.features import FEATURES
from engine.frames import PITCH_CLASSES
from jobs.progress_poll import job_progress_response
from media.selectors import media_get_for_user

PAGE_SIZE = 50


def _job_or_404(request: HttpRequest, job_id: UUID) -> AnalysisJob | HttpResponse:
    try:
        return analysis_job_get_for_user(user=request_user(request), public_id=job_id)
    except AnalysisJobNotFound:
        return render(request, "errors/404.html", status=404)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = analysis_job_list_for_user(user=request_user(request))[:PAGE_SIZE]
    return render(request, "analysis/job_list.html", {"jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest) -> HttpResponse:
    """Start an analysis of one of the user's files (`?media=<id>`), showing its cost first."""
    data = request.POST if request.method == "POST" else None
    form = AnalysisStartForm(data, initial={"media_id": request.GET.get("media")})
    try:
        media_id = UUID(request.POST.get("media_id") or request.GET.get("media") or "")
        media = media_get_for_user(user=request_user(request), public_id=media_id)
    except (ValueError, DomainError):
        return render(request, "errors/404.html", status=404)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = analysis_job_create(
                user=request_user(request),
                media_public_id=media.public_id,
                features=form.cleaned_data["features"],
            )
        except DomainError as refusal:
            form.add_error(None, str(refusal))
            status = refusal.status
        else:
            return redirect("analysis:job-detail", job_id=job.public_id)
    elif request.method == "POST":
        status = 400
    seconds = float(media.duration_seconds or 0.0)
    context = {
        "form": form,
        "media": media,
        "cost": price_for("analysis", seconds),
        "time_limit": analysis_time_limits(audio_seconds=seconds).soft,
    }
    return render(request, "analysis/job_new.html", context, status=status)


@login_required
@require_POST
def sample_track_start(request: HttpRequest) -> HttpResponse:
    """Upload the sample track and analyse it for free, once; then show that analysis."""
    try:
        start = analysis_sample_track_start(user=request_user(request))
    except DomainError as refusal:
        messages.error(request, f"The sample track could not be started: {refusal.detail}")
        return redirect("dashboard")
    if start.started:
        messages.success(
            request, "The sample track was uploaded and its free analysis has started."
        )
    else:
        messages.info(
            request, "You already tried the sample track; this is its analysis. It is free once."
        )
    return redirect("analysis:job-detail", job_id=start.job.public_id)


@login_required
def job_detail(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The job page: live progress while it runs, the result pictures once it succeeded."""
    job = _job_or_404(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    context: dict[str, Any] = {
        "job": job,
        "api_url": reverse("api:analysis-detail", args=[job.public_id]),
        "progress_url": reverse("analysis:job-progress", args=[job.public_id]),
        "progress": None if job.is_finished else analysis_job_progress(job=job),
        "timeline_url": reverse("api:analysis-timeline", args=[job.public_id]),
        "audio_analysis_url": reverse("api:analysis-audio-analysis", args=[job.public_id]),
        "all_features": FEATURES,
    }
    return render(request, "analysis/job_detail.html", context)


@require_GET
def job_progress(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The job page's poll (`jobs.progress_poll`)."""
    return job_progress_response(
        request,
        read=lambda user: analysis_job_progress_for_user(user=user, public_id=job_id),
        not_found=AnalysisJobNotFound,
        not_found_detail="No such analysis.",
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: UUID) -> HttpResponse:
    try:
        analysis_job_cancel(user=request_user(request), public_id=job_id)
    except AnalysisJobNotFound:
        return render(request, "errors/404.html", status=404)
    except DomainError:
        pass
    return redirect("analysis:job-detail", job_id=job_id)


def _succeeded_or_error(request: HttpRequest, job_id: UUID) -> AnalysisJob | HttpResponse:
    job = _job_or_404(request, job_id)
    if isinstance(job, AnalysisJob) and job.status != AnalysisJob.Status.SUCCEEDED:
        return redirect("analysis:job-detail", job_id=job_id)
    return job


@login_required
def job_download_json(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The whole result as one JSON file: the summary with its timeline and waveform."""
    job = _succeeded_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    result = dict(job.summary)
    if job.arrays_key:
        result.update(analysis_arrays_get(job=job))
    response = HttpResponse(
        json.dumps(result, separators=(",", ":")), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="analysis-{job.public_id}.json"'
    return response


@login_required
def job_download_csv(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """The timeline as CSV, one row per frame, or the event list when there is no timeline."""
    job = _succeeded_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    arrays = analysis_arrays_get(job=job) if job.arrays_key else {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    timeline = arrays.get("timeline")
    if timeline:
        write_timeline_csv(writer, timeline)
    else:
        writer.writerow(["t", "type", "strength"])
        for event in job.summary.get("events", []):
            writer.writerow([event["t"], event["type"], event["strength"]])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="analysis-{job.public_id}.csv"'
    return response


def write_timeline_csv(writer: Any, timeline: dict[str, Any]) -> None:
    """One row per frame: time, the scalar series, 12 chroma bins named by pitch class
    (`chroma_C` ... `chroma_B`) and the named bands."""
    rate = float(timeline["frame_rate"])
    scalars = [
        name
        for name in ("rms", "spectral_centroid", "spectral_flux", "loudness_momentary")
        if timeline.get(name) is not None
    ]
    band_names: list[str] = timeline["bands"]["names"]
    band_values: list[list[float]] = timeline["bands"]["values"]
    chroma: list[list[float]] = timeline["chroma"]
    writer.writerow(
        [
            "t",
            *scalars,
            *[f"chroma_{pitch}" for pitch in PITCH_CLASSES],
            *[f"band_{n}" for n in band_names],
        ]
    )
    for index in range(len(timeline["rms"])):
        writer.writerow(
            [
                round(index / rate, 4),
                *[timeline[name][index] for name in scalars],
                *chroma[index],
                *band_values[index],
            ]
        )
