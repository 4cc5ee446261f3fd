import uuid

from django.db import migrations, models


BATCH_SIZE = 1000


def fill_public_ids(apps, schema_editor):
    """Give every existing row its own random public id before the column becomes unique."""
    for app_label, model_name in [("webhooks", "WebhookEndpoint"), ("webhooks", "WebhookDelivery")]:
        model = apps.get_model(app_label, model_name)
        batch = []
        for row in model.objects.only("pk").iterator(chunk_size=BATCH_SIZE):
            row.public_id = uuid.uuid4()
            batch.append(row)
            if len(batch) == BATCH_SIZE:
                model.objects.bulk_update(batch, ["public_id"])
                batch = []
        model.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
    ]
