"""The credits history reads as one line per job: reserved, then charged or released."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from billing.services import credits_capture, credits_release, credits_reserve
from tests.analysis.factories import AnalysisJobFactory
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

# The page writes a debit with a true minus sign, as typeset text does.
MINUS = "\u2212"


def _rows(client: Client) -> list[str]:
    html = client.get("/credits/").content.decode()
    body = html[html.index("<tbody>", html.index("credits-history")) :]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_a_charged_job_is_one_line_linking_to_the_job_by_its_public_id(
    client: Client, user
) -> None:
    fund(user, 20)
    job = AnalysisJobFactory.create(owner=user)
    credits_reserve(user=user, amount=4, feature="analysis", job_ref=job.job_ref)
    credits_capture(job_ref=job.job_ref, feature="analysis", usage_quantity=200)
    client.force_login(user)

    rows = _rows(client)

    public_ref = f"analysis:{job.public_id}"
    jobs = [row for row in rows if public_ref in row]
    assert len(jobs) == 1
    link = f'<a href="/analyses/{job.public_id}/" title="{public_ref}">Analysis #{job.short_id}</a>'
    assert link in jobs[0]
    assert not re.search(rf"{re.escape(job.job_ref)}(?![0-9a-f-])", "".join(rows))
    assert "Charge" in jobs[0]
    assert MINUS + "4" in jobs[0]
    assert "reserved 4, then charged" in jobs[0]
    assert "Capture" not in "".join(rows)
    assert len(rows) == 2  # the funding grant and the job


def test_a_released_job_shows_nothing_charged(client: Client, user) -> None:
    fund(user, 20)
    credits_reserve(user=user, amount=4, feature="analysis", job_ref="analysis:7")
    credits_release(job_ref="analysis:7", feature="analysis")
    client.force_login(user)

    (job,) = [row for row in _rows(client) if "analysis:7" in row]

    assert "Released" in job
    assert "not charged" in job
    assert 'class="credits-zero">0<' in job


def test_a_running_job_shows_its_reservation(client: Client, user) -> None:
    fund(user, 20)
    credits_reserve(user=user, amount=3, feature="analysis", job_ref="analysis:9")
    client.force_login(user)

    (job,) = [row for row in _rows(client) if "analysis:9" in row]

    assert "Reserved" in job
    assert MINUS + "3" in job
    assert "3 reserved while the job runs" in job


def test_a_partial_capture_shows_the_charge_and_the_return(client: Client, user) -> None:
    fund(user, 20)
    credits_reserve(user=user, amount=5, feature="analysis", job_ref="analysis:11")
    credits_capture(job_ref="analysis:11", feature="analysis", amount=2, usage_quantity=60)
    client.force_login(user)

    (job,) = [row for row in _rows(client) if "analysis:11" in row]

    assert MINUS + "2" in job
    assert "reserved 5, charged 2, 3 returned" in job


def test_the_new_key_page_offers_a_copy_button_and_revoking_asks_first(
    client: Client, user
) -> None:
    client.force_login(user)
    created = client.post("/account/api-keys/", {"name": "laptop"}).content.decode()
    assert 'data-copy-target="new-api-key"' in created

    account = client.get("/account/").content.decode()
    assert re.search(
        r'action="/account/api-keys/[0-9a-f-]{36}/revoke/" data-confirm="Revoke the key phg_',
        account,
    )
