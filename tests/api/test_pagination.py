"""Lists report the right total and links whether or not the page they return is full."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.media.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


def test_counts_follow_uploads_and_deletions_at_once(api_client, user):
    assert api_client.get("/api/v1/media/").json()["count"] == 0
    MediaFileFactory.create_batch(3, owner=user)
    listed = api_client.get("/api/v1/media/").json()
    assert (listed["count"], len(listed["results"]), listed["next"]) == (3, 3, None)
    doomed = listed["results"][0]["id"]
    assert api_client.delete(f"/api/v1/media/{doomed}/").status_code == 204
    listed = api_client.get("/api/v1/media/").json()
    assert listed["count"] == 2
    assert doomed not in [item["id"] for item in listed["results"]]


def test_a_full_page_reports_the_total_and_the_next_page(api_client, user):
    MediaFileFactory.create_batch(5, owner=user)
    first = api_client.get("/api/v1/media/?page_size=2").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    last = api_client.get("/api/v1/media/?page_size=2&page=3").json()
    assert (last["count"], len(last["results"]), last["next"]) == (5, 1, None)
    assert "page=2" in last["previous"]
    exact = api_client.get("/api/v1/media/?page_size=5").json()
    assert (exact["count"], len(exact["results"]), exact["next"]) == (5, 5, None)
    assert api_client.get("/api/v1/media/?page_size=2&page=last").json()["count"] == 5


def test_a_page_past_the_end_or_not_a_number_is_404(api_client, user):
    MediaFileFactory.create_batch(2, owner=user)
    for page in ("2", "9", "0", "x", str(2**63), "6063981340482367354044416"):
        response = api_client.get(f"/api/v1/media/?page={page}")
        assert response.status_code == 404, page
        assert response["Content-Type"] == "application/problem+json"
    assert api_client.get("/api/v1/media/?page=1").json()["count"] == 2


def test_a_list_that_fits_on_its_page_is_not_counted_separately(api_client, user):
    MediaFileFactory.create_batch(2, owner=user)
    api_client.get("/api/v1/media/")
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/media/").json()["count"] == 2
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"]]
