import pytest
from django.test import Client

from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory


@pytest.fixture
def portal(db, broker):
    client = Client()
    client.force_login(broker)
    return client


@pytest.fixture
def staff_portal(db, staff):
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def customer(agency):
    return CustomerFactory(broker=agency, first_name="Annabel", last_name="Lee",
                           email="annabel.lee@example.test")


@pytest.fixture
def policy(customer):
    return PolicyFactory(customer=customer)


@pytest.fixture
def claim(policy):
    return ClaimFactory(policy=policy)


@pytest.fixture
def foreign_claim(other_agency):
    """A claim in another agency's book, with its policy and customer."""
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
