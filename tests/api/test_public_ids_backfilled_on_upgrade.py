"""Rows written before public ids existed each get their own public id on upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0005_user_email_confirmed_at"), ("webhooks", "0001_initial")]
AFTER = [
    ("accounts", "0007_api_key_public_id_unique"),
    ("webhooks", "0003_webhook_public_id_unique"),
]


@pytest.fixture
def migrated_back() -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_keys_and_endpoints_get_distinct_public_ids(
    migrated_back: MigrationExecutor,
) -> None:
    old = migrated_back.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(email="old@example.com")
    for index in range(3):
        old.get_model("accounts", "ApiKey").objects.create(
            user=user, prefix=f"phg_{index}", key_hash=f"hash-{index}"
        )
        old.get_model("webhooks", "WebhookEndpoint").objects.create(
            owner=user, url="https://example.com/hook", secret=f"whsec_{index}"
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps

    for app_label, model_name in (("accounts", "ApiKey"), ("webhooks", "WebhookEndpoint")):
        public_ids = list(
            new.get_model(app_label, model_name).objects.values_list("public_id", flat=True)
        )
        assert len(public_ids) == 3
        assert None not in public_ids
        assert len(set(public_ids)) == 3
