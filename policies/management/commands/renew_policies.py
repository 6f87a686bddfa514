import datetime

from django.core.management.base import BaseCommand

from policies.services import renew_policies


class Command(BaseCommand):
    help = ("Make a renewal quote for every active rated policy ending within --days "
            "that has none yet (re-rated on the plan in force on the new start date). "
            "Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30,
                            help="Renew policies ending within this many days (default 30).")
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=None,
                            help="Act as if today were this date (YYYY-MM-DD).")

    def handle(self, *args, **opts):
        if opts["days"] < 0:
            self.stderr.write("--days must be 0 or more.")
            raise SystemExit(2)
        counts = renew_policies(actor=None, days=opts["days"], today=opts["today"])
        self.stdout.write(
            f"Renewal quotes: {counts['quoted']} open, {counts['declined']} declined, "
            f"{counts['skipped']} skipped."
        )
