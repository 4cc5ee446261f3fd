"""Fewer index entries for each transfer, grant update and request the ledger writes.

- The transfers' idempotency key stays unique through the same index, renamed into a named
  constraint; the second index `unique=True` adds for LIKE, which no query uses, is dropped.
  On PostgreSQL that is a rename and a DROP INDEX, so nothing is rebuilt; SQLite keeps the
  column's own UNIQUE, the same guarantee, until its table is next rebuilt from the models.
- Reservations by expiry and transfers by actor are indexed only where their queries look.
- Grants are indexed by account alone, so that moving `remaining` updates a grant in place.
- Requests are not indexed by transfer: nothing looks them up that way.
"""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Django's names: PostgreSQL's for the column's UNIQUE, Django's for its LIKE index.
COLUMN_UNIQUE = "billing_transfer_idempotency_key_key"
LIKE_INDEX = "billing_transfer_idempotency_key_455cbcdc_like"
CONSTRAINT = "billing_transfer_unique_idempotency_key"


def name_the_unique_key(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {LIKE_INDEX}", params=None)
        schema_editor.execute(
            f"ALTER TABLE billing_transfer RENAME CONSTRAINT {COLUMN_UNIQUE} TO {CONSTRAINT}",
            params=None,
        )


def unname_the_unique_key(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE billing_transfer RENAME CONSTRAINT {CONSTRAINT} TO {COLUMN_UNIQUE}",
            params=None,
        )
        schema_editor.execute(
            f"CREATE INDEX {LIKE_INDEX} ON billing_transfer (idempotency_key varchar_pattern_ops)",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_drop_indexes_led_by_composite_ones"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="creditgrant",
            index=models.Index(fields=["account"], name="billing_grant_account"),
        ),
        migrations.RemoveIndex(
            model_name="creditgrant",
            name="billing_grant_open",
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                condition=models.Q(("kind", "reserve")),
                fields=["expires_at"],
                name="billing_tr_reserve_expiry",
            ),
        ),
        migrations.RemoveIndex(
            model_name="transfer",
            name="billing_tr_kind_expires",
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)),
                fields=["actor"],
                name="billing_tr_actor",
            ),
        ),
        migrations.AlterField(
            model_name="transfer",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="ledgerrequest",
            name="transfer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="billing.transfer",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transfer",
                    name="idempotency_key",
                    field=models.CharField(max_length=300),
                ),
                migrations.AddConstraint(
                    model_name="transfer",
                    constraint=models.UniqueConstraint(
                        fields=("idempotency_key",), name=CONSTRAINT
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(name_the_unique_key, unname_the_unique_key),
            ],
        ),
    ]
