"""Template tags other pages use to offer stems, so a results page can follow one stem."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from accounts.api.authentication import request_user
from stems.selectors import stem_analyses_for_media

register = template.Library()


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
                "analysis_job_id": found.analysis_job_id,
                "api_url": reverse("api:analysis-detail", args=[found.analysis_job_id]),
                "timeline_url": reverse("api:analysis-timeline", args=[found.analysis_job_id]),
            }
            for found in analyses
        ]
    }
