from django.core.management.base import BaseCommand

from compliance import services
from compliance.management.commands._common import actor_arg, customer_arg, is_id, person_arg
from core.formatting import counted


class Command(BaseCommand):
    help = ("Erase a customer's personal data (irreversible; policies and claims stay). "
            "By e-mail: every customer record of that person, in every agency. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("customer", help="Customer id, or e-mail address (every record "
                                             "with it, in every agency).")
        parser.add_argument("--actor", default="",
                            help="E-mail of the staff user on whose behalf this runs "
                                 "(recorded in the audit trail).")

    def handle(self, *args, **opts):
        actor = actor_arg(opts["actor"])
        reference = opts["customer"]
        if is_id(reference):
            results = [services.customer_erase(actor=actor, customer=customer_arg(reference))]
        else:
            person_arg(reference)
            results = services.person_erase(actor=actor, email=reference)
        for result in results:
            customer = result.customer
            if result.erased_now:
                self.stdout.write(
                    f"Erased customer {customer.pk}: "
                    f"{counted(result.documents_deleted, 'document')} deleted, "
                    f"{counted(result.entries_scrubbed, 'audit entry', 'audit entries')} "
                    "scrubbed.")
            else:
                self.stdout.write(f"Customer {customer.pk} was already erased; nothing changed.")
