"""Fuzz the live API against its own OpenAPI schema (schemathesis, every check on).

Authenticated with a real API key: no 5xx, no response that violates the schema (status,
content type, body, headers), every error problem+json. Bounded in examples per operation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from accounts.services import api_key_create

MAX_EXAMPLES = int(os.environ.get("PHONOGLYPH_FUZZ_EXAMPLES", "25"))
# Every check stays on. A schema-valid request may still be refused for what OpenAPI cannot
# say: rules across fields (a date range's order and length: 400), credits run out (402), an
# upload's bytes are not audio (413, 415, 422), a webhook URL resolves to a private address
# (422). The problem+json, status and schema checks still hold for these answers.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = [
  "2xx", "3xx", "400", "401", "402", "403", "404", "409", "413", "415", "422", "429"
]
"""


@schemathesis.check
def errors_are_problem_json(ctx, response, case):
    if response.status_code >= 400:
        headers = {name.lower(): values for name, values in response.headers.items()}
        content_type = headers.get("content-type", [""])
        value = content_type[0] if isinstance(content_type, list) else content_type
        assert value.startswith("application/problem+json"), (
            f"{response.status_code} answered as {value!r}, not problem+json"
        )


@pytest.fixture
def app_in_test_transaction():
    """The WSGI app without closing the database connection per request, like Django's Client.

    The fuzzed requests run inside the test's transaction; closing the connection at the end
    of a request would end it.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from phonoglyph.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(user):
    return {"Authorization": f"Bearer {api_key_create(user=user).raw}"}


@pytest.mark.slow
def test_the_api_honours_its_schema(db, bearer, app_in_test_transaction):
    config = schemathesis.config.SchemathesisConfig.from_str(CONFIG)
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", app_in_test_transaction, config=config
    )
    failures: list[str] = []
    for result in schema.get_all_operations():
        # Err has no ok(): an operation the schema describes invalidly fails the test here.
        operation = result.ok()  # type: ignore[union-attr]

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=bearer)

        try:
            fuzz()
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n\n".join(failures)
