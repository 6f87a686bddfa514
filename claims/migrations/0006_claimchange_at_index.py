# The portal dashboard's recent status changes of an agency read the changes newest
# first from this index instead of sorting every change of the book.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0005_claim_dashboard_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="claimstatuschange",
            index=models.Index(fields=["-changed_at", "-id"], name="claimchange_at"),
        ),
    ]
