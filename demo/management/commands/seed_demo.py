"""Load a synthetic demo book (see demo.book): idempotent, deterministic per --seed."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from demo import book as demo


class Command(BaseCommand):
    help = ("Load a synthetic demo book: agencies, logins, customers, policies, claims with "
            "their history and documents. Does nothing when the demo book is already loaded; "
            "refuses a database holding real customers unless --force.")

    def add_arguments(self, parser):
        defaults = demo.BookSize()
        parser.add_argument("--seed", type=int, default=2026,
                            help="Same seed (and day): same book.")
        parser.add_argument("--agencies", type=int, default=defaults.agencies)
        parser.add_argument("--customers", type=int, default=defaults.customers,
                            help="Customers in all (default %(default)s).")
        parser.add_argument("--policies-per-customer", type=float,
                            default=defaults.policies_per_customer,
                            help="Average policies per customer, at least one each.")
        parser.add_argument("--claim-rate", type=float, default=defaults.claim_rate,
                            help="Share of started policies with a claim (0-1).")
        parser.add_argument("--document-rate", type=float, default=defaults.document_rate,
                            help="Share of claims with documents (0-1).")
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=None,
                            help="Date the book is built around (YYYY-MM-DD; default today).")
        parser.add_argument("--password", default=None,
                            help="Password of the demo logins (default: a fixed one with "
                                 "DEBUG on, else a random one, printed).")
        parser.add_argument("--force", action="store_true",
                            help="Seed even though the database holds real customers.")

    def handle(self, *args, **opts):
        size = demo.BookSize(
            agencies=opts["agencies"], customers=opts["customers"],
            policies_per_customer=opts["policies_per_customer"],
            claim_rate=opts["claim_rate"], document_rate=opts["document_rate"],
        )
        try:
            size.validate()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verbose = opts["verbosity"] >= 2

        def progress(done):
            if verbose:
                self.stdout.write(f"  {done} customers")

        # The demo book is history, not news: its events are fanned out here and now,
        # and the emails they make are kept in memory rather than sent to anyone.
        quiet = override_settings(EVENTS_DELIVERY="sync",
                                  EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        try:
            with quiet:
                result = demo.seed(seed=opts["seed"], size=size, password=opts["password"],
                                   force=opts["force"], today=opts["today"], progress=progress)
        except demo.SeedRefused as exc:
            raise CommandError(str(exc)) from exc
        if not result.created:
            self.stdout.write(self.style.SUCCESS("Demo book already loaded. Demo logins "
                                                 "(password as set when it was loaded):"))
            self._logins()
            return
        rate = result.rows / result.seconds if result.seconds else 0.0
        counts = ", ".join(f"{value} {name.replace('_', ' ')}"
                           for name, value in result.counts.items())
        self.stdout.write(self.style.SUCCESS(
            f"Loaded the demo book (seed {opts['seed']}): {counts}."))
        self.stdout.write(f"  {result.rows} rows in {result.seconds:.2f}s "
                          f"({rate:,.0f} rows/s); "
                          + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password {result.password}):"))
        self._logins()

    def _logins(self):
        self.stdout.write(f"  staff  (admin):  {demo.STAFF_EMAIL}")
        self.stdout.write(f"  broker (portal): {demo.BROKER_EMAIL}")
