import datetime

from django.core.management.base import BaseCommand

from policies.services import policies_refresh_status


class Command(BaseCommand):
    help = "Expire lapsed policies and activate pending ones whose start date has come."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, default=None,
                            help="Act as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, **opts):
        counts = policies_refresh_status(today=opts["date"])
        self.stdout.write(
            f"Expired {counts['expired']} and activated {counts['activated']} policies."
        )
