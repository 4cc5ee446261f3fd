"""Refuse UPDATE and DELETE of ledger transfers inside PostgreSQL itself.

The model already refuses them in Python; the trigger also stops raw SQL and other clients.
SQLite (the embedded default) has no such trigger and relies on the model alone.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE = """
CREATE OR REPLACE FUNCTION billing_transfer_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_transfer is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_transfer_append_only
    BEFORE UPDATE OR DELETE ON billing_transfer
    FOR EACH ROW EXECUTE FUNCTION billing_transfer_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_transfer_append_only ON billing_transfer;
DROP FUNCTION IF EXISTS billing_transfer_refuse_change();
"""


def create_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
