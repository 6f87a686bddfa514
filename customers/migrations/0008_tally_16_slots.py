from django.db import migrations

from core.db.tallies import Tally

# Customers by agency, now over 16 slots a key (was 8): concurrent writers of one agency
# share a tally row half as often. Written out here, as in the migration that
# installed it, so this one keeps meaning what it meant when it ran.
CUSTOMER_TALLY = Tally(table="customers_customertally", source="customers_customer",
                       keys=("broker_id",), count="customers", slots=16)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_customer_tally'),
    ]

    operations = [
        CUSTOMER_TALLY.reslot(was=8),
    ]
