import json

from django.core.management.base import BaseCommand

from compliance import services
from compliance.management.commands._common import actor_arg, customer_arg, is_id, person_arg


class Command(BaseCommand):
    help = ("Print everything held about a customer as JSON (the GDPR export). By id: that "
            "record's export. By e-mail: {\"email\", \"records\": [one export per customer "
            "record of that person, in every agency]}.")

    def add_arguments(self, parser):
        parser.add_argument("customer", help="Customer id, or e-mail address (every record "
                                             "with it, in every agency).")
        parser.add_argument("--actor", default="",
                            help="E-mail of the staff user on whose behalf this runs.")
        parser.add_argument("--output", default="", help="Write to this file, not stdout.")

    def handle(self, *args, **opts):
        actor = actor_arg(opts["actor"])
        reference = opts["customer"]
        if is_id(reference):
            customer = customer_arg(reference)
            data = services.customer_export_record(actor=actor, customer=customer)
            what = f"customer {customer.pk}"
        else:
            person_arg(reference)
            data = services.person_export_record(actor=actor, email=reference)
            what = f"{len(data['records'])} customer record(s) of {reference.strip()}"
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Wrote the export of {what} to {opts['output']}.")
        else:
            self.stdout.write(text)
