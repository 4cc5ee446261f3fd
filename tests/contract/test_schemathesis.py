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
# Every check stays on. A schema-valid request may still be refused for what no schema can
# say: credits run out (402), an upload's bytes are not audio (413, 415, 422), a webhook URL
# resolves to a private address (422).
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "402", "403", "404", "409", "413", "415", "422", "429"]
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
def bearer(user):
    return {"Authorization": f"Bearer {api_key_create(user=user).raw}"}


@pytest.mark.slow
def test_the_api_honours_its_schema(db, bearer):
    from phonoglyph.wsgi import application

    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/",
        application,
        config=schemathesis.config.SchemathesisConfig.from_str(CONFIG),
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
