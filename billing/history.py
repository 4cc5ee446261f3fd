"""The credits history a person reads: one line per job, not one per ledger movement.

A job's reservation and its settlements (a capture, a release, or both after a partial
capture) are three movements in the ledger; shown one by one they read as a double charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from billing.models import AccountKind, Transfer, TransferKind


@dataclass(frozen=True)
class HistoryLine:
    """One line of history. `amount` is signed: negative takes credits from the user."""

    created_at: datetime
    what: str
    amount: int
    state: str

    @property
    def magnitude(self) -> int:
        return abs(self.amount)

    feature: str
    job_ref: str
    job_url: str
    job_label: str
    note: str


def credit_history_for_user(*, user: User) -> QuerySet[Transfer]:
    """Movements of `user`'s account that open a line: settlements ride on their reservation."""
    return (
        Transfer.objects.filter(Q(debit_account__user=user) | Q(credit_account__user=user))
        .filter(pending__isnull=True)
        .exclude(kind__in=(TransferKind.CAPTURE, TransferKind.RELEASE))
        .select_related("debit_account")
        .prefetch_related(
            Prefetch("settlements", queryset=Transfer.objects.order_by("created_at", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def job_link(job_ref: str) -> tuple[str, str]:
    """The page and a readable name of the job `job_ref` ("<kind>:<id>"), or ("", "")."""
    kind, _, identifier = job_ref.partition(":")
    url_name = settings.PHONOGLYPH_JOB_PAGES.get(kind)
    if not url_name or not identifier.isdigit():
        return "", ""
    try:
        url = reverse(url_name, args=[int(identifier)])
    except NoReverseMatch:
        return "", ""
    return url, f"{kind.replace('_', ' ').capitalize()} #{identifier}"


def history_line(transfer: Transfer) -> HistoryLine:
    """Describe `transfer` (with its settlements prefetched) as the user sees it."""
    url, label = job_link(transfer.job_ref) if transfer.job_ref else ("", "")
    taken = transfer.debit_account.kind == AccountKind.USER
    if transfer.kind != TransferKind.RESERVE:
        return HistoryLine(
            created_at=transfer.created_at,
            what=transfer.get_kind_display(),
            amount=-transfer.amount if taken else transfer.amount,
            state="",
            feature=transfer.feature,
            job_ref=transfer.job_ref,
            job_url=url,
            job_label=label,
            note=transfer.memo,
        )
    captured = sum(s.amount for s in transfer.settlements.all() if s.kind == TransferKind.CAPTURE)
    released = sum(s.amount for s in transfer.settlements.all() if s.kind == TransferKind.RELEASE)
    if captured and released:
        state = f"reserved {transfer.amount}, charged {captured}, {released} returned"
    elif captured:
        state = f"reserved {transfer.amount}, then charged"
    elif released:
        state = f"reserved {transfer.amount}, then released: not charged"
    else:
        state = f"{transfer.amount} reserved while the job runs"
    return HistoryLine(
        created_at=transfer.created_at,
        what="Charge" if captured else ("Released" if released else "Reserved"),
        amount=-(captured if captured or released else transfer.amount),
        state=state,
        feature=transfer.feature,
        job_ref=transfer.job_ref,
        job_url=url,
        job_label=label,
        note=transfer.memo,
    )
