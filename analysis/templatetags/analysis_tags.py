"""Template tags other pages use to show analyses, so a file's page links to its analyses,
and to credit the sample track wherever it appears."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.api.authentication import request_user
from analysis.sample import SAMPLE_TRACK, sample_track_is
from analysis.selectors import analysis_job_list_for_media

register = template.Library()


@register.inclusion_tag("analysis/includes/analyses_of_media.html", takes_context=True)
def analyses_of_media(context: dict[str, Any], media: Any) -> dict[str, Any]:
    """The signed-in user's analyses of `media`, newest first, with a link to start one."""
    user = request_user(context["request"])
    return {"media": media, "jobs": list(analysis_job_list_for_media(user=user, media_id=media.pk))}


@register.inclusion_tag("analysis/includes/sample_track_credit.html")
def sample_track_credit(media: Any) -> dict[str, Any]:
    """The sample track's credit line when `media` is that recording (its licence asks for it)."""
    return {"sample_track": SAMPLE_TRACK if sample_track_is(sha256=media.sha256) else None}
