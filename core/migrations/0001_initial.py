import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Before the kernel became its own app the table belonged to the project package.
PREVIOUS_TABLE = "phonoglyph_idempotencyrecord"


def adopt_or_create_table(apps, schema_editor):
    """Take over an existing deployment's table by renaming it; create it on a new database."""
    model = apps.get_model("core", "IdempotencyRecord")
    tables = schema_editor.connection.introspection.table_names()
    if PREVIOUS_TABLE in tables:
        schema_editor.alter_db_table(model, PREVIOUS_TABLE, model._meta.db_table)
    elif model._meta.db_table not in tables:
        schema_editor.create_model(model)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('method', models.CharField(max_length=10)),
                        ('path', models.CharField(max_length=500)),
                        ('request_fingerprint', models.CharField(max_length=64)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body', models.JSONField(blank=True, null=True)),
                        ('response_content_type', models.CharField(blank=True, max_length=100)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField(db_index=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='idempotency_unique_user_key')],
                    },
                ),
            ],
        ),
        migrations.RunPython(adopt_or_create_table, migrations.RunPython.noop),
    ]
