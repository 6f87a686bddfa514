# Staff's list of every document (newest first) reads this index instead of sorting
# the whole table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0003_document_agency"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="document",
            index=models.Index(fields=["-uploaded_at", "-id"], name="document_uploaded"),
        ),
    ]
