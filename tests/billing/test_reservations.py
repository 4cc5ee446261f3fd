"""Two-phase holds: reserve, capture (full, partial, zero) and release, all idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.errors import (
    InsufficientCredits,
    JobAlreadyReserved,
    LedgerKeyReused,
    ReservationNotFound,
    ReservationReleased,
)
from billing.models import FeatureUsage, Transfer, TransferKind
from billing.selectors import credit_balance_for_user, ledger_reconcile
from billing.services import (
    credits_capture,
    credits_release,
    credits_release_stale,
    credits_reserve,
)
from tests.billing.factories import fund, job_ref

pytestmark = pytest.mark.django_db


def test_reserve_holds_credits_until_the_job_settles(user) -> None:
    fund(user, 10)
    ref = job_ref()
    reservation = credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    assert reservation.kind == TransferKind.RESERVE
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved, balance.posted) == (6, 4, 10)
    assert reservation.expires_at is not None
    assert reservation.expires_at > timezone.now() + timedelta(minutes=100)


def test_reserve_refuses_more_than_available_with_the_amounts(user) -> None:
    fund(user, 3)
    with pytest.raises(InsufficientCredits) as refused:
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=job_ref())
    assert refused.value.status == 402
    assert refused.value.code == "insufficient_credits"
    assert refused.value.extra == {"required": 5, "available": 3}
    assert credit_balance_for_user(user=user).available == 3


def test_reserve_for_a_user_without_an_account_opens_one_and_refuses(user) -> None:
    with pytest.raises(InsufficientCredits):
        credits_reserve(user=user, amount=1, feature="analysis", job_ref=job_ref())
    assert user.credit_account.available == 0


def test_replaying_a_reserve_key_returns_the_first_reservation(user) -> None:
    fund(user, 10)
    ref = job_ref()
    first = credits_reserve(
        user=user, amount=4, feature="analysis", job_ref=ref, idempotency_key="k1"
    )
    again = credits_reserve(
        user=user, amount=4, feature="analysis", job_ref=ref, idempotency_key="k1"
    )
    assert again.pk == first.pk
    assert credit_balance_for_user(user=user).reserved == 4


def test_replaying_a_refused_key_is_refused_again_even_after_a_top_up(user) -> None:
    fund(user, 1)
    ref = job_ref()
    with pytest.raises(InsufficientCredits):
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref, idempotency_key="k")
    fund(user, 10)
    with pytest.raises(InsufficientCredits) as refused:
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref, idempotency_key="k")
    assert refused.value.extra == {"required": 5, "available": 1}
    assert credit_balance_for_user(user=user).reserved == 0


def test_a_key_reused_for_another_amount_is_refused(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref, idempotency_key="k")
    with pytest.raises(LedgerKeyReused):
        credits_reserve(user=user, amount=5, feature="analysis", job_ref=ref, idempotency_key="k")


def test_one_job_cannot_reserve_twice_under_different_keys(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=2, feature="analysis", job_ref=ref, idempotency_key="a")
    with pytest.raises(JobAlreadyReserved):
        credits_reserve(user=user, amount=2, feature="analysis", job_ref=ref, idempotency_key="b")
    assert credit_balance_for_user(user=user).reserved == 2


def test_full_capture_charges_the_reservation_and_records_usage(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    settlement = credits_capture(job_ref=ref, feature="analysis", usage_quantity=200)
    assert (settlement.captured, settlement.released, settlement.replayed) == (4, 0, False)
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved, balance.posted) == (6, 0, 6)
    usage = FeatureUsage.objects.get(job_ref=ref)
    assert (usage.user, usage.feature, usage.quantity, usage.unit, usage.cost) == (
        user,
        "analysis",
        200,
        "audio_seconds",
        4,
    )
    assert usage.transfer is not None
    assert usage.transfer.kind == TransferKind.CAPTURE


def test_partial_capture_returns_the_rest(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    settlement = credits_capture(job_ref=ref, feature="analysis", amount=1, usage_quantity=30)
    assert (settlement.captured, settlement.released) == (1, 3)
    balance = credit_balance_for_user(user=user)
    assert (balance.available, balance.reserved) == (9, 0)
    assert ledger_reconcile().ok


def test_capturing_zero_releases_everything_and_still_records_usage(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    settlement = credits_capture(job_ref=ref, feature="analysis", amount=0, usage_quantity=30)
    assert (settlement.captured, settlement.released) == (0, 4)
    assert credit_balance_for_user(user=user).available == 10
    assert FeatureUsage.objects.get(job_ref=ref).cost == 0
    replay = credits_capture(job_ref=ref, feature="analysis", amount=0, usage_quantity=30)
    assert replay.replayed


def test_a_task_delivered_twice_captures_once(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", usage_quantity=60)
    replay = credits_capture(job_ref=ref, feature="analysis", usage_quantity=60)
    assert (replay.captured, replay.replayed) == (4, True)
    assert Transfer.objects.filter(job_ref=ref, kind=TransferKind.CAPTURE).count() == 1
    assert credit_balance_for_user(user=user).available == 6


def test_capture_more_than_reserved_is_refused(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    with pytest.raises(ValueError, match="between 0 and the reserved 4"):
        credits_capture(job_ref=ref, feature="analysis", amount=5, usage_quantity=1)


def test_capture_without_a_reservation_is_refused() -> None:
    with pytest.raises(ReservationNotFound):
        credits_capture(job_ref=job_ref(), feature="analysis", usage_quantity=1)


def test_release_returns_the_whole_reservation_once(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    first = credits_release(job_ref=ref, feature="analysis", reason="cancelled")
    second = credits_release(job_ref=ref, feature="analysis")
    assert (first.released, first.replayed) == (4, False)
    assert (second.released, second.replayed) == (4, True)
    assert credit_balance_for_user(user=user).available == 10
    assert Transfer.objects.filter(job_ref=ref, kind=TransferKind.RELEASE).count() == 1


def test_capture_after_release_is_refused_and_charges_nothing(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    credits_release(job_ref=ref, feature="analysis")
    with pytest.raises(ReservationReleased):
        credits_capture(job_ref=ref, feature="analysis", usage_quantity=60)
    assert credit_balance_for_user(user=user).available == 10


def test_release_after_capture_leaves_the_charge(user) -> None:
    fund(user, 10)
    ref = job_ref()
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=ref)
    credits_capture(job_ref=ref, feature="analysis", usage_quantity=60)
    settlement = credits_release(job_ref=ref, feature="analysis")
    assert (settlement.captured, settlement.released, settlement.replayed) == (4, 0, True)
    assert credit_balance_for_user(user=user).available == 6


def test_release_of_a_job_that_reserved_nothing_changes_nothing(user) -> None:
    settlement = credits_release(job_ref=job_ref(), feature="analysis")
    assert (settlement.captured, settlement.released) == (0, 0)


def test_sweep_releases_expired_reservations_only(user) -> None:
    fund(user, 10)
    stale, fresh = job_ref(), job_ref()
    credits_reserve(
        user=user,
        amount=3,
        feature="analysis",
        job_ref=stale,
        expires_at=timezone.now() + timedelta(seconds=1),
    )
    credits_reserve(user=user, amount=2, feature="analysis", job_ref=fresh)
    released = credits_release_stale(now=timezone.now() + timedelta(minutes=1))
    assert released == 1
    assert credit_balance_for_user(user=user).reserved == 2
    assert Transfer.objects.get(job_ref=stale, kind=TransferKind.RELEASE).memo == (
        "Reservation expired."
    )


def test_sweep_releases_reservations_of_jobs_that_are_gone(user) -> None:
    fund(user, 10)
    alive, crashed = job_ref(), job_ref()
    credits_reserve(user=user, amount=3, feature="analysis", job_ref=alive)
    credits_reserve(user=user, amount=2, feature="analysis", job_ref=crashed)
    released = credits_release_stale(is_job_alive=lambda ref: ref == alive)
    assert released == 1
    assert credit_balance_for_user(user=user).reserved == 3
    assert Transfer.objects.filter(job_ref=crashed, kind=TransferKind.RELEASE).exists()
    assert ledger_reconcile().ok
