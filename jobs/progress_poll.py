"""The job pages' progress poll, one answer for every kind of job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from core.api.exceptions import problem_response
from jobs.progress import JobProgress


def job_progress_response(
    request: HttpRequest,
    *,
    read: Callable[[Any], JobProgress],
    not_found: type[Exception],
    not_found_detail: str,
) -> HttpResponse:
    """Status, percent, the stage in words and the time left if measured, as JSON.

    `read(user)` returns the signed-in user's job's progress or raises `not_found` for anyone
    else's. Signed out it answers 401 rather than a log-in redirect the page's script could not
    follow.
    """
    if not request.user.is_authenticated:
        return problem_response(
            request, status=401, code="not_authenticated", detail="Log in to follow this job."
        )
    try:
        progress = read(request.user)
    except not_found:
        return problem_response(request, status=404, code="not_found", detail=not_found_detail)
    response = JsonResponse(asdict(progress))
    response["Cache-Control"] = "no-store"
    return response
