"""The "Analyse after upload" choice of the upload page and API (`analyse=true`).

Registered with media's follow-ups (media.follow_ups) from AnalysisConfig.ready(), so that an
upload can start its analysis in the same step while media knows nothing of analysis.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from analysis.kind import CREDITS_FEATURE
from analysis.services import analysis_job_create
from billing.selectors import credit_balance_for_user, price_for
from media.follow_ups import (
    FollowUpOffer,
    FollowUpStarted,
    UploadFollowUp,
    upload_follow_up_register,
)
from media.models import MediaFile

FIELD = "analyse"


def _offer(user: User) -> FollowUpOffer:
    """Checked when the user can pay for at least a minute of audio: the file is not known yet."""
    per_minute = price_for(CREDITS_FEATURE, 60.0)
    available = credit_balance_for_user(user=user).available
    price = f"{per_minute} credit{'s' if per_minute != 1 else ''} per started minute of audio"
    return FollowUpOffer(
        label="Analyse after upload",
        help_text=(
            f"Starts the analysis as soon as the file is accepted: {price}, reserved then and "
            f"charged only if it succeeds. You have {available} credits."
        ),
        checked=available >= per_minute,
    )


def _start(user: User, media: MediaFile) -> FollowUpStarted:
    job = analysis_job_create(user=user, media_public_id=media.public_id, features=None)
    return FollowUpStarted(
        url=reverse("api:analysis-detail", kwargs={"job_id": job.public_id}),
        page_url=reverse("analysis:job-detail", kwargs={"job_id": job.public_id}),
    )


ANALYSE_AFTER_UPLOAD = UploadFollowUp(
    field=FIELD,
    description=(
        "`true` starts an analysis of every feature once the file is accepted, priced and "
        "reserved as by POST /api/v1/analyses/. A refusal (such as insufficient_credits) "
        "keeps the upload and is reported in the response's `follow_ups`."
    ),
    offer=_offer,
    start=_start,
)


def analysis_follow_up_register() -> None:
    """Offer "Analyse after upload" on every upload (from AnalysisConfig.ready())."""
    upload_follow_up_register(ANALYSE_AFTER_UPLOAD)
