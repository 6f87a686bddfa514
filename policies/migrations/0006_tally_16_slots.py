from django.db import migrations

from core.db.tallies import Tally

# Policies by (agency, type, status): count and premium, now over 16 slots a key
# (was 8): concurrent writers of one agency share a tally row half as often.
# Written out here, as in the migration that installed it, so this one keeps
# meaning what it meant when it ran.
POLICY_TOTALS = Tally(
    table="policies_policytotal", source="policies_policy",
    keys=("agency_id", "policy_type", "status"), count="policies",
    sums=(("premium", "premium_amount"),), slots=16)


class Migration(migrations.Migration):

    dependencies = [
        ('policies', '0005_policy_totals'),
    ]

    operations = [
        POLICY_TOTALS.reslot(was=8),
    ]
