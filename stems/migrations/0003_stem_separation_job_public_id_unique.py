import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("stems", "0002_stem_separation_job_public_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stemseparationjob",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
