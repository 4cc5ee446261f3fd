"""Template tags other pages use to show analyses, so a file's page links to its analyses."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.api.authentication import request_user
from analysis.selectors import analysis_job_list_for_media

register = template.Library()


@register.inclusion_tag("analysis/includes/analyses_of_media.html", takes_context=True)
def analyses_of_media(context: dict[str, Any], media: Any) -> dict[str, Any]:
    """The signed-in user's analyses of `media`, newest first, with a link to start one."""
    user = request_user(context["request"])
    return {"media": media, "jobs": list(analysis_job_list_for_media(user=user, media_id=media.pk))}
