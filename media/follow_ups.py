"""What may start right after an upload is accepted, offered by the packages that use uploads.

Media knows no consumer of its uploads: a package above it (analysis) registers a follow-up
from its AppConfig.ready(). The upload page shows each follow-up as a checkbox, and the upload
API takes each as an optional form field of the same name (`analyse=true`). A follow-up's
refusal (not enough credits, too many jobs) never undoes the upload: the file stays, and the
page or the API response says why nothing was started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import User
from core.api.exceptions import DomainError
from media.models import MediaFile


@dataclass(frozen=True)
class FollowUpOffer:
    """How the upload page offers a follow-up to one user, before the file is known."""

    label: str
    # What it costs and what the user has, in words.
    help_text: str
    # On by default: the user can afford it.
    checked: bool


@dataclass(frozen=True)
class FollowUpStarted:
    """Where the owner follows what a follow-up started: the API resource and the page."""

    url: str
    page_url: str


@dataclass(frozen=True)
class UploadFollowUp:
    """One thing to start on a fresh upload.

    `start(user, media)` starts it for one of `user`'s ready uploads and raises a DomainError
    when it refuses; `offer(user)` words the choice for the upload page.
    """

    field: str
    description: str
    offer: Callable[[User], FollowUpOffer]
    start: Callable[[User, MediaFile], FollowUpStarted]


_FOLLOW_UPS: dict[str, UploadFollowUp] = {}


def upload_follow_up_register(follow_up: UploadFollowUp) -> None:
    """Offer `follow_up` on every upload; registering the same field again replaces it."""
    _FOLLOW_UPS[follow_up.field] = follow_up


def upload_follow_ups() -> tuple[UploadFollowUp, ...]:
    return tuple(_FOLLOW_UPS.values())


# What became of one requested follow-up: what it started, or its refusal.
FollowUpOutcome = FollowUpStarted | DomainError
