"""The notification pages: the list, opening one, marking all read, the header's poll."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.api.authentication import request_user
from accounts.models import User
from core.api.exceptions import problem_response
from notifications.errors import NotificationNotFound
from notifications.forms import EmailPreferenceForm, NotificationStatusForm
from notifications.selectors import (
    notification_items_newer_for_user,
    notification_latest_id,
    notification_list_for_user,
    notification_unread_count,
)
from notifications.services import (
    notification_email_preference_set,
    notification_mark_all_read,
    notification_open,
)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = notification_list_for_user(user=request_user(request))
    return render(request, "notifications/list.html", {"notifications": notifications})


@login_required
def notification_open_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Go to what the notification is about, marking it read."""
    try:
        notification = notification_open(
            user=request_user(request), notification_id=notification_id
        )
    except NotificationNotFound:
        return render(request, "errors/404.html", status=404)
    return redirect(notification.link)


@login_required
@require_POST
def notification_mark_all_read_view(request: HttpRequest) -> HttpResponse:
    marked = notification_mark_all_read(user=request_user(request))
    if marked:
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    return redirect("notifications:list")


@require_GET
def notification_status(request: HttpRequest) -> HttpResponse:
    """The header's poll: the unread count, the newest id, and unread ones after `?after=`.

    Signed out it answers 401 rather than a log-in redirect the script could not follow.
    """
    if not isinstance(request.user, User):
        return problem_response(
            request, status=401, code="not_authenticated", detail="Log in to see notifications."
        )
    form = NotificationStatusForm(request.GET)
    if not form.is_valid():
        return problem_response(
            request,
            status=400,
            code="invalid",
            detail="`after` must be a notification number.",
            errors=form.errors.get_json_data(),
        )
    user = request_user(request)
    after = form.cleaned_data["after"]
    newer = [] if after is None else notification_items_newer_for_user(user=user, after_id=after)
    body = {
        "unread": notification_unread_count(user=user),
        "latest_id": notification_latest_id(user=user),
        "new": [{**asdict(item), "created_at": item.created_at.isoformat()} for item in newer],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def email_preference_set(request: HttpRequest) -> HttpResponse:
    """Turn the mail on a job's end on or off, then go back where the form was."""
    form = EmailPreferenceForm(request.POST)
    if form.is_valid():
        on = form.cleaned_data["email_on_job_end"]
        notification_email_preference_set(user=request_user(request), email_on_job_end=on)
        if on:
            messages.success(request, "We will email you when one of your jobs ends.")
        else:
            messages.success(request, "We will not email you when your jobs end.")
    target = str(request.POST.get("next", ""))
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("accounts:account")
    return redirect(target)
