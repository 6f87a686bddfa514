import datetime

import pytest
from django.utils import timezone

from customers.models import Customer
from tests.conftest import client_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FIELDS = {"id", "email", "first_name", "last_name", "phone", "date_of_birth", "address",
          "gdpr_consent", "gdpr_consent_date", "broker", "created_at", "updated_at"}


def payload(**over):
    data = {"email": "jane.doe@example.test", "first_name": "Jane", "last_name": "Doe",
            "phone": "+442079460000", "date_of_birth": "1985-02-03",
            "address": "2 High Street, Bath", "gdpr_consent": True}
    data.update(over)
    return data


@pytest.mark.parametrize("path", ["/api/customers", "/api/customers/"])
def test_broker_creates_customer_in_own_agency(broker_client, broker, path):
    r = broker_client.post(path, payload(), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) == FIELDS
    assert body["broker"] == str(broker.agency_id)
    assert body["gdpr_consent"] is True
    assert body["gdpr_consent_date"] is not None
    assert body["phone"] == "+442079460000"
    assert body["date_of_birth"] == "1985-02-03"
    assert datetime.datetime.fromisoformat(body["created_at"]).tzinfo is not None


def test_server_sets_consent_date(broker_client):
    r = broker_client.post("/api/customers",
                           payload(gdpr_consent_date="2001-01-01T00:00:00Z"), format="json")
    assert r.status_code == 201
    when = datetime.datetime.fromisoformat(r.json()["gdpr_consent_date"])
    assert abs((timezone.now() - when).total_seconds()) < 60


@pytest.mark.parametrize("consent", [False, None, "missing"])
def test_consent_required(broker_client, consent):
    data = payload()
    if consent == "missing":
        del data["gdpr_consent"]
    else:
        data["gdpr_consent"] = consent
    r = broker_client.post("/api/customers", data, format="json")
    assert r.status_code == 400
    assert "gdpr_consent" in r.json()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field,value", [
    ("email", "not-an-email"), ("email", ""), ("first_name", ""), ("first_name", "   "),
    ("last_name", ""), ("phone", "12"), ("phone", "+0123"), ("phone", "0207 946 00001234"),
    ("date_of_birth", "2999-01-01"), ("date_of_birth", "yesterday"),
])
def test_bad_fields_are_400_naming_the_field(broker_client, field, value):
    r = broker_client.post("/api/customers", payload(**{field: value}), format="json")
    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.parametrize("missing", ["email", "first_name", "last_name"])
def test_required_fields(broker_client, missing):
    data = payload()
    del data[missing]
    r = broker_client.post("/api/customers", data, format="json")
    assert r.status_code == 400 and missing in r.json()


def test_duplicate_email_case_insensitive(broker_client, other_broker_client):
    assert broker_client.post("/api/customers", payload(), format="json").status_code == 201
    # Unique within an agency: the same broker's agency refuses the address in any case...
    r = broker_client.post("/api/customers", payload(email="JANE.DOE@example.test"),
                           format="json")
    assert r.status_code == 400
    assert "email" in r.json()
    # ...while another agency may hold the same person (tests/customers/test_email_per_agency).
    r = other_broker_client.post("/api/customers", payload(email="JANE.DOE@example.test"),
                                 format="json")
    assert r.status_code == 201


def test_optional_fields_may_be_omitted(broker_client):
    r = broker_client.post("/api/customers", {"email": "min@example.test", "first_name": "M",
                                               "last_name": "N", "gdpr_consent": True},
                           format="json")
    assert r.status_code == 201
    assert r.json()["phone"] is None and r.json()["date_of_birth"] is None


def test_broker_cannot_place_customer_in_another_agency(broker_client, other_agency):
    r = broker_client.post("/api/customers", payload(broker=str(other_agency.pk)), format="json")
    assert r.status_code == 400 and "broker" in r.json()


def test_staff_may_place_customer_in_any_agency(staff_client, other_agency):
    r = staff_client.post("/api/customers", payload(broker=str(other_agency.pk)), format="json")
    assert r.status_code == 201
    assert r.json()["broker"] == str(other_agency.pk)


def test_unknown_agency_is_400(staff_client):
    r = staff_client.post("/api/customers",
                          payload(broker="00000000-0000-0000-0000-000000000000"), format="json")
    assert r.status_code == 400 and "broker" in r.json()


def test_get_and_patch(broker_client, broker):
    customer = CustomerFactory(broker=broker.agency)
    r = broker_client.get(f"/api/customers/{customer.pk}")
    assert r.status_code == 200 and r.json()["id"] == str(customer.pk)
    r = broker_client.patch(f"/api/customers/{customer.pk}/", {"last_name": "Smith",
                                                               "phone": "+14155550199"},
                            format="json")
    assert r.status_code == 200
    assert r.json()["last_name"] == "Smith" and r.json()["phone"] == "+14155550199"
    customer.refresh_from_db()
    assert customer.last_name == "Smith"


def test_patch_validation(broker_client, broker):
    customer = CustomerFactory(broker=broker.agency)
    other = CustomerFactory(broker=broker.agency)
    for body, field in [({"email": "bad"}, "email"), ({"first_name": ""}, "first_name"),
                        ({"email": other.email.upper()}, "email"),
                        ({"gdpr_consent": False}, "gdpr_consent"),
                        ({"date_of_birth": "2999-01-01"}, "date_of_birth")]:
        r = broker_client.patch(f"/api/customers/{customer.pk}", body, format="json")
        assert r.status_code == 400, body
        assert field in r.json()


def test_unknown_and_malformed_ids_are_404(broker_client):
    assert broker_client.get("/api/customers/00000000-0000-0000-0000-000000000000"
                             ).status_code == 404
    assert broker_client.get("/api/customers/not-a-uuid").status_code == 404


def test_search_by_name_or_email(broker_client, broker):
    CustomerFactory(broker=broker.agency, first_name="Marguerite", last_name="Oduya",
                    email="m.oduya@example.test")
    CustomerFactory(broker=broker.agency, first_name="Tom", last_name="Brandt",
                    email="tb@example.test")
    for term in ("margu", "ODUYA", "m.oduya@", "Marguerite Oduya"):
        r = broker_client.get("/api/customers", {"search": term})
        assert [c["last_name"] for c in r.json()["results"]] == ["Oduya"], term


def test_ordering(broker_client, broker):
    for name in ("Charlie", "Alpha", "Bravo"):
        CustomerFactory(broker=broker.agency, last_name=name)
    r = broker_client.get("/api/customers", {"ordering": "last_name"})
    assert [c["last_name"] for c in r.json()["results"]] == ["Alpha", "Bravo", "Charlie"]
    r = broker_client.get("/api/customers?ordering=-last_name")
    assert [c["last_name"] for c in r.json()["results"]] == ["Charlie", "Bravo", "Alpha"]


def test_method_not_allowed(broker_client, broker):
    customer = CustomerFactory(broker=broker.agency)
    assert broker_client.delete(f"/api/customers/{customer.pk}").status_code == 405
    assert broker_client.put(f"/api/customers/{customer.pk}", payload(),
                             format="json").status_code == 405


def test_integrator_needs_model_permissions(integrator):
    from django.contrib.auth.models import Permission

    client = client_for(integrator)
    assert client.get("/api/customers").status_code == 403
    assert client.post("/api/customers", payload(), format="json").status_code == 403
    integrator.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client = client_for(integrator)
    assert client.get("/api/customers").status_code == 200
    assert client.post("/api/customers", payload(), format="json").status_code == 403
    integrator.user_permissions.add(Permission.objects.get(codename="add_customer"))
    r = client_for(integrator).post("/api/customers", payload(), format="json")
    assert r.status_code == 201
    assert r.json()["broker"] is None


def test_malformed_json_is_400(broker_client):
    r = broker_client.generic("POST", "/api/customers", "{not json",
                              content_type="application/json")
    assert r.status_code == 400
