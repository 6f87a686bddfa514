from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Role
from core.exceptions import DomainError


class Command(BaseCommand):
    help = "Create a user: --email E --password P --role staff|broker|integrator [--broker NAME]"

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--broker", dest="agency", default=None,
                            help="Agency name (created when it does not exist).")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **opts):
        try:
            user = services.user_create(
                email=opts["email"],
                password=opts["password"],
                role=opts["role"],
                agency_name=opts["agency"],
                first_name=opts["first_name"],
                last_name=opts["last_name"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        agency = f" at {user.agency.name}" if user.agency_id else ""
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} user {user.pk}{agency}."))
