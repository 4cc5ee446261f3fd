"""Template tags other pages use to show stem separations, so a file's page links to them."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.api.authentication import request_user
from stems.selectors import stem_separation_job_list_for_media

register = template.Library()


@register.inclusion_tag("stems/includes/stems_of_media.html", takes_context=True)
def stems_of_media(context: dict[str, Any], media: Any) -> dict[str, Any]:
    """The signed-in user's stem separations of `media`, newest first."""
    user = request_user(context["request"])
    return {
        "media": media,
        "jobs": list(stem_separation_job_list_for_media(user=user, media_id=media.pk)),
    }
