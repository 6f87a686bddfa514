import json

from django.core.management.base import BaseCommand

from compliance import services
from compliance.management.commands._common import actor_arg, customer_arg


class Command(BaseCommand):
    help = "Print everything held about one customer as JSON (the GDPR export)."

    def add_arguments(self, parser):
        parser.add_argument("customer", help="Customer id or e-mail address.")
        parser.add_argument("--actor", default="",
                            help="E-mail of the staff user on whose behalf this runs.")
        parser.add_argument("--output", default="", help="Write to this file, not stdout.")

    def handle(self, *args, **opts):
        actor = actor_arg(opts["actor"])
        customer = customer_arg(opts["customer"])
        data = services.customer_export_record(actor=actor, customer=customer)
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Wrote the export of customer {customer.pk} to {opts['output']}.")
        else:
            self.stdout.write(text)
