import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("media", "0004_media_file_public_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mediafile",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
