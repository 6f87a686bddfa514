"""Factories that make valid objects with one call."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Agency, Role, User
from claims.models import Claim, ClaimStatus, ClaimType
from customers.models import Customer
from policies.models import Policy, PolicyStatus, PolicyType

PASSWORD = "Str0ng!Passw0rd"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    role = Role.BROKER
    agency = factory.SubFactory(AgencyFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    class Params:
        staff = factory.Trait(role=Role.STAFF, agency=None, is_staff=True)
        integrator = factory.Trait(role=Role.INTEGRATOR, agency=None)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    phone = "+14155550123"
    date_of_birth = datetime.date(1980, 5, 17)
    address = "1 Example Street, Springfield"
    gdpr_consent = True
    gdpr_consent_date = factory.LazyFunction(timezone.now)
    broker = factory.SubFactory(AgencyFactory)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    policy_number = factory.Sequence(lambda n: f"POL-{n:08X}")
    customer = factory.SubFactory(CustomerFactory)
    policy_type = PolicyType.AUTO
    premium_amount = Decimal("500.00")
    coverage_amount = Decimal("20000.00")
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=335))
    status = PolicyStatus.ACTIVE


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim

    claim_number = factory.Sequence(lambda n: f"CLM-T-{n:06d}")
    policy = factory.SubFactory(PolicyFactory)
    claim_type = ClaimType.ACCIDENT
    claim_amount = Decimal("1500.00")
    description = "Rear-ended at a junction."
    incident_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    status = ClaimStatus.PENDING
