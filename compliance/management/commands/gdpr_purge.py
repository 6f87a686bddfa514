import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from compliance import services
from core.formatting import counted


class Command(BaseCommand):
    help = ("Erase the personal data of every customer past their retention date: the end "
            "of their last policy (or, without any policy, the record's creation) plus "
            "GDPR_RETENTION_YEARS. Customers with a claim still open are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Only list who would be erased.")
        parser.add_argument("--date", type=datetime.date.fromisoformat, default=None,
                            help="Act as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, **opts):
        dry = opts["dry_run"]
        items = services.customers_purge(dry_run=dry, today=opts["date"])
        verb = "Would erase" if dry else "Erased"
        for item in items:
            basis = (f"last policy ended {item.last_policy_end}" if item.last_policy_end
                     else "no policy")
            self.stdout.write(f"{verb} customer {item.customer_id} ({basis}; retained until "
                              f"{item.retained_until}).")
        self.stdout.write(
            f"{verb} {counted(len(items), 'customer')} past the "
            f"{settings.GDPR_RETENTION_YEARS}-year retention period."
            if items else "Nobody is past the retention period.")
