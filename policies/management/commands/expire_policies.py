import datetime

from django.core.management.base import BaseCommand

from policies.services import policies_refresh_status, quotes_expire


class Command(BaseCommand):
    help = ("Expire lapsed policies, activate pending ones whose start date has come, "
            "and expire open quotes past their validity.")

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, default=None,
                            help="Act as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, **opts):
        counts = policies_refresh_status(today=opts["date"])
        self.stdout.write(
            f"Expired {counts['expired']} and activated {counts['activated']} policies."
        )
        expired = quotes_expire(today=opts["date"])
        self.stdout.write(f"Expired {expired} quotes.")
