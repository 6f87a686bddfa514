"""A customer's email is unique within an agency (case-insensitive), not across agencies;
the data subject behind an address is every record with it, in every agency."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from compliance import services as compliance
from compliance.models import AuditEntry
from customers.models import Customer
from customers.services import CustomerInvalid, customer_create, customer_update
from tests.factories import AgencyFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

EMAIL = "sam.shared@example.test"


def _create(actor, *, email=EMAIL, broker=None, first_name="Sam", last_name="Shared"):
    return customer_create(actor=actor, email=email, first_name=first_name,
                           last_name=last_name, gdpr_consent=True, broker=broker)


# --- the service's rule ------------------------------------------------------------------

def test_same_email_in_two_agencies_is_two_customers(broker, other_broker):
    mine = _create(broker)
    theirs = _create(other_broker, email=EMAIL.upper())
    assert mine.pk != theirs.pk
    assert (mine.broker_id, theirs.broker_id) == (broker.agency_id, other_broker.agency_id)


def test_same_email_twice_in_one_agency_is_refused_in_any_case(broker):
    _create(broker)
    with pytest.raises(CustomerInvalid) as exc:
        _create(broker, email="  SAM.Shared@Example.TEST ")
    assert exc.value.field == "email"
    assert Customer.objects.filter(email__iexact=EMAIL).count() == 1


def test_staff_places_the_same_email_in_two_agencies_but_not_twice_in_one(staff, agency,
                                                                         other_agency):
    _create(staff, broker=agency)
    _create(staff, broker=other_agency)
    with pytest.raises(CustomerInvalid):
        _create(staff, broker=other_agency, email=EMAIL.title())


def test_customers_of_no_agency_are_unique_among_themselves(staff, agency):
    _create(staff, broker=None)
    with pytest.raises(CustomerInvalid):
        _create(staff, broker=None, email=EMAIL.upper())
    assert _create(staff, broker=agency).broker_id == agency.pk


def test_update_to_an_email_of_another_agency_succeeds(broker, other_broker):
    _create(other_broker)
    mine = _create(broker, email="someone.else@example.test")
    mine = customer_update(actor=broker, customer=mine, data={"email": EMAIL.upper()})
    assert mine.email == EMAIL.upper()


def test_update_to_an_email_of_the_same_agency_is_refused(broker):
    _create(broker)
    mine = _create(broker, email="someone.else@example.test")
    with pytest.raises(CustomerInvalid) as exc:
        customer_update(actor=broker, customer=mine, data={"email": EMAIL})
    assert exc.value.field == "email"


def test_moving_a_customer_into_an_agency_that_holds_the_email_is_refused(staff, agency,
                                                                        other_agency):
    _create(staff, broker=agency)
    moving = _create(staff, broker=other_agency)
    with pytest.raises(CustomerInvalid) as exc:
        customer_update(actor=staff, customer=moving, data={"broker": agency})
    assert exc.value.field == "email"
    moving.refresh_from_db()
    assert moving.broker_id == other_agency.pk


def test_the_database_holds_the_rule_too(agency, other_agency):
    CustomerFactory(email=EMAIL, broker=agency)
    CustomerFactory(email=EMAIL.upper(), broker=other_agency)  # another agency: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(email=EMAIL.upper(), broker=agency)
    CustomerFactory(email=EMAIL, broker=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(email=EMAIL.title(), broker=None)


# --- what a broker sees --------------------------------------------------------------------

def test_broker_adding_an_email_another_agency_holds_simply_succeeds(
        broker_client, other_broker, other_agency):
    theirs = CustomerFactory(email=EMAIL, broker=other_agency, first_name="Theodora",
                             last_name="Elsewhere", phone="+14155550188")
    r = broker_client.post("/api/customers", {
        "email": EMAIL.upper(), "first_name": "Sam", "last_name": "Shared",
        "gdpr_consent": True}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["id"] != str(theirs.pk)
    text = json.dumps(body)
    for secret in ("Theodora", "Elsewhere", "+14155550188", str(theirs.pk),
                   str(other_agency.pk)):
        assert secret not in text
    # Each broker sees only its own record of the person.
    listed = broker_client.get("/api/customers", {"search": "shared@"}).json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]
    assert broker_client.get(f"/api/customers/{theirs.pk}").status_code == 404


def test_broker_adding_an_email_its_own_agency_holds_is_400(broker_client, agency):
    CustomerFactory(email=EMAIL, broker=agency)
    r = broker_client.post("/api/customers", {
        "email": EMAIL, "first_name": "Sam", "last_name": "Shared", "gdpr_consent": True},
        format="json")
    assert r.status_code == 400 and "email" in r.json()


# --- GDPR by email: the person, in every agency --------------------------------------------

@pytest.fixture
def person(agency, other_agency):
    first = CustomerFactory(email=EMAIL, broker=agency, first_name="Sam")
    second = CustomerFactory(email=EMAIL.upper(), broker=other_agency, first_name="Samuel")
    PolicyFactory(customer=first)
    PolicyFactory(customer=second)
    bystander = CustomerFactory(email="bystander@example.test", broker=agency)
    return {"records": [first, second], "bystander": bystander}


def test_person_export_covers_every_record_in_every_agency(person, staff):
    data = compliance.person_export_record(actor=staff, email=f" {EMAIL.title()} ")
    assert [r["profile"]["id"] for r in data["records"]] == \
        [str(c.pk) for c in person["records"]]
    assert [r["profile"]["first_name"] for r in data["records"]] == ["Sam", "Samuel"]
    assert all(len(r["policies"]) == 1 for r in data["records"])
    assert str(person["bystander"].pk) not in json.dumps(data)
    # Each record's export is itself recorded in the trail.
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 2


def test_person_erase_erases_every_record_and_nobody_else(person, staff):
    results = compliance.person_erase(actor=staff, email=EMAIL.upper())
    assert sorted(str(r.customer.pk) for r in results) == \
        sorted(str(c.pk) for c in person["records"])
    assert all(r.erased_now for r in results)
    for customer in person["records"]:
        customer.refresh_from_db()
        assert customer.is_erased and EMAIL not in customer.email.lower()
    person["bystander"].refresh_from_db()
    assert not person["bystander"].is_erased
    assert not Customer.objects.filter(email__iexact=EMAIL).exists()
    assert compliance.person_erase(actor=staff, email=EMAIL) == []


def test_person_erase_and_export_are_for_staff_only(person, broker):
    from core.exceptions import Forbidden

    with pytest.raises(Forbidden):
        compliance.person_erase(actor=broker, email=EMAIL)
    with pytest.raises(Forbidden):
        compliance.person_export_record(actor=broker, email=EMAIL)
    assert not any(c.is_erased for c in Customer.objects.filter(email__iexact=EMAIL))


def test_commands_by_email_cover_every_agency(person, capsys, tmp_path):
    out = tmp_path / "export.json"
    call_command("gdpr_export", EMAIL, "--output", str(out))
    exported = json.loads(out.read_text())
    assert exported["email"] == EMAIL
    assert {r["profile"]["broker"] for r in exported["records"]} == \
        {str(c.broker_id) for c in person["records"]}
    call_command("gdpr_erase", EMAIL.upper())
    printed = capsys.readouterr().out
    assert printed.count("Erased customer") == 2
    assert all(str(c.pk) in printed for c in person["records"])
    with pytest.raises(CommandError, match="No customer"):
        call_command("gdpr_erase", EMAIL)


def test_command_by_id_still_erases_one_record(person, capsys):
    first, second = person["records"]
    call_command("gdpr_erase", str(first.pk))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_erased and not second.is_erased


def test_new_agency_record_does_not_reveal_an_erased_one(staff):
    agency = AgencyFactory()
    gone = CustomerFactory(email=EMAIL, broker=agency)
    compliance.customer_erase(actor=staff, customer=gone)
    again = _create(staff, broker=agency)  # the address is free again in that agency
    assert again.pk != gone.pk
