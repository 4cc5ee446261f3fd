"""The credits history a person reads: one line per job, not one per ledger movement.

A job's reservation and its settlements (a capture, a release, or both after a partial
capture) are three movements in the ledger; shown one by one they read as a double charge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from billing.models import AccountKind, Transfer, TransferKind
from billing.selectors import transfers_touching_account_of
from jobs.references import job_refs_public


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
        transfers_touching_account_of(user=user)
        .filter(pending__isnull=True)
        .exclude(kind__in=(TransferKind.CAPTURE, TransferKind.RELEASE))
        .select_related("debit_account")
        .prefetch_related(
            Prefetch("settlements", queryset=Transfer.objects.order_by("created_at", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def job_link(public_ref: str) -> tuple[str, str]:
    """The page and a readable name of the job `public_ref` ("<kind>:<public id>"), or
    ("", "") when no page shows it."""
    kind, _, identifier = public_ref.partition(":")
    url_name = settings.PHONOGLYPH_JOB_PAGES.get(kind)
    if not url_name:
        return "", ""
    try:
        url = reverse(url_name, args=[identifier])
    except NoReverseMatch:
        return "", ""
    return url, f"{kind.replace('_', ' ').capitalize()} #{identifier[:8]}"


def history_lines(transfers: Iterable[Transfer]) -> list[HistoryLine]:
    """Describe each transfer (with its settlements prefetched) as the user sees it."""
    transfers = list(transfers)
    public_refs = job_refs_public(transfer.job_ref for transfer in transfers if transfer.job_ref)
    return [history_line(transfer, public_refs=public_refs) for transfer in transfers]


def history_line(transfer: Transfer, *, public_refs: dict[str, str]) -> HistoryLine:
    """Describe `transfer` as the user sees it, its job named by `public_refs`
    (jobs.references.job_refs_public)."""
    job_ref = public_refs.get(transfer.job_ref, transfer.job_ref)
    url, label = job_link(job_ref) if job_ref else ("", "")
    taken = transfer.debit_account.kind == AccountKind.USER
    if transfer.kind != TransferKind.RESERVE:
        return HistoryLine(
            created_at=transfer.created_at,
            what=transfer.get_kind_display(),
            amount=-transfer.amount if taken else transfer.amount,
            state="",
            feature=transfer.feature,
            job_ref=job_ref,
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
        job_ref=job_ref,
        job_url=url,
        job_label=label,
        note=transfer.memo,
    )
