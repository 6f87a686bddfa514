# The overdue queue (sla_due_at < now, any status) and its capped count read
# claim_sla_due; the dashboard's reserves outstanding reads claim_reserved (the few
# claims holding a reserve) instead of every claim.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0004_claim_agency"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["sla_due_at"], name="claim_sla_due"),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(condition=models.Q(("reserve", 0), _negated=True),
                               fields=["status"], name="claim_reserved"),
        ),
    ]
