"""The email opt-in form, for the account page (which belongs to accounts, below us)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import User
from notifications.forms import EmailPreferenceForm
from notifications.selectors import notification_email_wanted

register = template.Library()


@register.inclusion_tag("notifications/email_preference.html", takes_context=True)
def notification_email_preference(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    wanted = isinstance(user, User) and notification_email_wanted(user_id=user.pk)
    return {
        "form": EmailPreferenceForm(initial={"email_on_job_end": wanted}),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
