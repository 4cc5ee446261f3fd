import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("analysis", "0004_analysis_job_public_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="analysisjob",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
