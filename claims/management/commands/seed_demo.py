"""A small, deterministic demo book for a fresh environment (never real people)."""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, User
from claims import services as claim_services
from claims.models import ClaimStatus, ClaimType
from customers import services as customer_services
from customers.models import Customer
from policies import services as policy_services
from policies.models import PolicyType

STAFF_EMAIL = "staff@demo.example"
BROKER_EMAIL = "broker@demo.example"
DEMO_PASSWORD = "Demo!Passw0rd2026"
AGENCIES = ("Harbour Insurance Brokers", "Meridian Cover Partners", "Oakline Risk Advisors")
FIRST = ("Ada", "Bram", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas")
LAST = ("Archer", "Baker", "Castro", "Duval", "Eklund", "Fischer", "Garcia", "Haddad")


class Command(BaseCommand):
    help = "Load a small demo book: agencies, logins, customers, policies and claims."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--customers", type=int, default=8, help="Per agency.")
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, **opts):
        if User.objects.filter(email=STAFF_EMAIL).exists():
            self._print_logins(opts["password"], created=False)
            return
        rng = random.Random(opts["seed"])
        with transaction.atomic():
            staff = account_services.user_create(
                email=STAFF_EMAIL, password=opts["password"], role=Role.STAFF,
                first_name="Sam", last_name="Handler")
            for index, agency_name in enumerate(AGENCIES):
                email = BROKER_EMAIL if index == 0 else f"broker{index + 1}@demo.example"
                broker = account_services.user_create(
                    email=email, password=opts["password"], role=Role.BROKER,
                    agency_name=agency_name)
                self._book(broker, staff, rng, opts["customers"], index)
        self._print_logins(opts["password"], created=True)

    def _book(self, broker, staff, rng, count, agency_index):
        today = timezone.localdate()
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            customer = customer_services.customer_create(
                actor=broker,
                email=f"{first}.{last}.{agency_index}{n}@example.com".lower(),
                first_name=first, last_name=last, gdpr_consent=True,
                phone=f"+44207946{rng.randint(1000, 9999)}",
                date_of_birth=datetime.date(rng.randint(1950, 2000), rng.randint(1, 12),
                                            rng.randint(1, 28)),
                address=f"{rng.randint(1, 200)} Demo Road, Sampletown",
            )
            self._policies(broker, staff, customer, rng, today)

    def _policies(self, broker, staff, customer: Customer, rng, today):
        for _ in range(rng.randint(1, 2)):
            kind = rng.choice(PolicyType.values)
            start = today - datetime.timedelta(days=rng.randint(-30, 400))
            policy = policy_services.policy_create(
                actor=broker, customer_id=customer.pk, policy_type=kind,
                premium_amount=Decimal(rng.randint(120, 2400)),
                coverage_amount=Decimal(rng.randint(10, 200) * 1000),
                start_date=start, end_date=start + datetime.timedelta(days=365),
            )
            if policy.start_date > today or rng.random() < 0.4:
                continue
            latest = min(today, policy.end_date)
            incident = policy.start_date + datetime.timedelta(
                days=rng.randint(0, (latest - policy.start_date).days))
            claim = claim_services.claim_create(
                actor=broker, policy_id=policy.pk, claim_type=rng.choice(ClaimType.values),
                claim_amount=Decimal(rng.randint(200, 9000)), incident_date=incident,
                description="Demo claim.",
            )
            path = rng.choice([[], [ClaimStatus.PROCESSING],
                               [ClaimStatus.PROCESSING, ClaimStatus.APPROVED],
                               [ClaimStatus.DENIED]])
            for status in path:
                claim_services.claim_transition(claim_id=claim.pk, to=status, actor=staff)

    def _print_logins(self, password, *, created):
        verb = "Loaded" if created else "Demo book already loaded"
        self.stdout.write(self.style.SUCCESS(f"{verb}. Demo logins (password {password}):"))
        self.stdout.write(f"  staff  (admin):  {STAFF_EMAIL}")
        self.stdout.write(f"  broker (portal): {BROKER_EMAIL}")
