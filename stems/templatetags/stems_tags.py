"""Template tags other pages use to show stems: a file's page links its stem separations, and a
results page can let its visualizer follow one analysed stem."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from accounts.api.authentication import request_user
from stems.selectors import stem_analyses_for_media, stem_separation_job_list_for_media

register = template.Library()


@register.inclusion_tag("stems/includes/stems_of_media.html", takes_context=True)
def stems_of_media(context: dict[str, Any], media: Any) -> dict[str, Any]:
    """The signed-in user's stem separations of `media`, newest first."""
    user = request_user(context["request"])
    return {
        "media": media,
        "jobs": list(stem_separation_job_list_for_media(user=user, media_id=media.pk)),
    }


@register.inclusion_tag("stems/includes/visualizer_sources.html", takes_context=True)
def visualizer_stem_sources(context: dict[str, Any], media: Any) -> dict[str, Any]:
    """The choice of what drives the visualizer: the mix, or one analysed stem of `media`.

    Renders nothing when no stem of `media` has a finished analysis.
    """
    analyses = stem_analyses_for_media(user=request_user(context["request"]), media_id=media.pk)
    return {
        "sources": [
            {
                "stem": found.stem,
                "analysis_id": found.analysis_public_id,
                "api_url": reverse("api:analysis-detail", args=[found.analysis_public_id]),
                "timeline_url": reverse("api:analysis-timeline", args=[found.analysis_public_id]),
            }
            for found in analyses
        ]
    }
