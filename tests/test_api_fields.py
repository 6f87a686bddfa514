"""Dates and money as clients send them: one shared pair of fields (core/fields.py)."""

import datetime
import json
from decimal import Decimal

import pytest
from rest_framework import serializers

from core.fields import DateField, MoneyField, parse_api_date
from policies.models import Policy
from tests.factories import CustomerFactory


class _Input(serializers.Serializer):
    day = DateField()
    amount = MoneyField(max_digits=12)


def _parse(**data):
    s = _Input(data={"day": "2024-01-01", "amount": "1.00", **data})
    return s.is_valid(), (s.validated_data if s.is_valid() else s.errors)


@pytest.mark.parametrize("text, day", [
    ("2024-12-31", datetime.date(2024, 12, 31)),
    ("2024-12-31T23:59:59Z", datetime.date(2024, 12, 31)),
    ("2024-01-01T00:00:00Z", datetime.date(2024, 1, 1)),
    ("2024-06-15T10:30:00Z", datetime.date(2024, 6, 15)),
    # The calendar date written, never shifted to another zone:
    ("2024-12-31T23:59:59+14:00", datetime.date(2024, 12, 31)),
    ("2024-01-01T00:30:00-05:00", datetime.date(2024, 1, 1)),
    ("2024-02-29T12:00:00.123456Z", datetime.date(2024, 2, 29)),
    ("2024-03-01T08:15", datetime.date(2024, 3, 1)),
    ("2024-03-01t08:15:00z", datetime.date(2024, 3, 1)),
])
def test_dates_and_date_times_give_the_written_date(text, day):
    assert parse_api_date(text) == day
    ok, data = _parse(day=text)
    assert ok and data["day"] == day


@pytest.mark.parametrize("text", [
    "2024-13-01", "2023-02-29", "2024-12-32", "2024-12-31T24:00:00Z", "2024-12-31T23:60Z",
    "2024-12-31T23:59:59+25:00", "20241231", "2024-W01-1", "", " 2024-12-31",
    "2024-12-31 ", "31/12/2024", "2024-12-31T", "2024-12-31Tfoo", "yesterday",
])
def test_malformed_dates_are_refused_naming_the_field(text):
    ok, errors = _parse(day=text)
    assert not ok and list(errors) == ["day"]
    assert "YYYY-MM-DD" in str(errors["day"][0])


@pytest.mark.parametrize("value", [20241231, 2024.12, True, None, ["2024-12-31"], {}])
def test_dates_of_other_json_types_are_refused(value):
    ok, errors = _parse(day=value)
    assert not ok and "day" in errors


def test_dates_answer_as_yyyy_mm_dd():
    assert DateField().to_representation(datetime.date(2024, 6, 5)) == "2024-06-05"


@pytest.mark.parametrize("value, amount", [
    (150.00, Decimal("150.00")), (150.5, Decimal("150.50")), (0.1, Decimal("0.10")),
    (150, Decimal("150.00")), ("150.00", Decimal("150.00")), ("150", Decimal("150.00")),
    ("150.5", Decimal("150.50")), ("-3.25", Decimal("-3.25")), (Decimal("7.1"), Decimal("7.10")),
    (9999999999.99, Decimal("9999999999.99")),
])
def test_money_from_numbers_and_strings(value, amount):
    ok, data = _parse(amount=value)
    assert ok, data
    assert data["amount"] == amount and data["amount"].as_tuple().exponent == -2


@pytest.mark.parametrize("value", [
    "NaN", "nan", "Infinity", "-Infinity", "inf", float("nan"), float("inf"), float("-inf"),
    "150.001", 150.001, 0.30000000000000004, "1e3", 1e300, 1e-7, "", " 150", "150 ", "1,50",
    "abc", True, False, None, [], {}, "0x10", "+150", "150.",
    "1" * 11, 10**11,  # more digits than the field holds
])
def test_bad_money_is_refused_naming_the_field(value):
    ok, errors = _parse(amount=value)
    assert not ok and list(errors) == ["amount"]


def test_money_answers_as_a_two_place_string():
    assert MoneyField().to_representation(Decimal("150")) == "150.00"
    assert MoneyField().to_representation(Decimal("2.5")) == "2.50"


# --- through the API, with the seed's payloads -------------------------------------------

@pytest.mark.django_db
def test_policy_from_floats_and_date_times(staff_client, agency):
    customer = CustomerFactory(broker=agency)
    r = staff_client.post("/api/policies", {
        "customer_id": str(customer.pk), "policy_type": "auto", "premium_amount": 150.00,
        "coverage_amount": 50000.00, "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-12-31T23:59:59Z"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["start_date"], body["end_date"]) == ("2024-01-01", "2024-12-31")
    assert (body["premium_amount"], body["coverage_amount"]) == ("150.00", "50000.00")
    policy = Policy.objects.get(pk=body["id"])
    assert policy.end_date == datetime.date(2024, 12, 31)
    assert policy.premium_amount == Decimal("150.00")


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", [
    ("premium_amount", "NaN"), ("premium_amount", "Infinity"), ("premium_amount", 150.001),
    ("coverage_amount", "50000.001"), ("coverage_amount", True),
    ("start_date", "2024-01-01T25:00:00Z"), ("end_date", "31/12/2024"),
])
def test_policy_refuses_bad_dates_and_money_naming_the_field(staff_client, agency, field,
                                                             value):
    customer = CustomerFactory(broker=agency)
    data = {"customer_id": str(customer.pk), "policy_type": "auto", "premium_amount": 150.00,
            "coverage_amount": 50000.00, "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2024-12-31T23:59:59Z", field: value}
    r = staff_client.post("/api/policies", data, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not Policy.objects.exists()


@pytest.mark.django_db
def test_json_nan_literal_is_a_400_not_a_number(staff_client, agency):
    customer = CustomerFactory(broker=agency)
    raw = ('{"customer_id": "%s", "policy_type": "auto", "premium_amount": NaN, '
           '"coverage_amount": 1000, "start_date": "2024-01-01", "end_date": "2024-12-31"}'
           % customer.pk)
    r = staff_client.post("/api/policies", raw, content_type="application/json")
    assert r.status_code == 400
    assert not Policy.objects.exists()


@pytest.mark.django_db
def test_claim_and_customer_dates_accept_date_times(staff_client, agency):
    r = staff_client.post("/api/customers", {
        "email": "dt@example.test", "first_name": "D", "last_name": "T", "gdpr_consent": True,
        "date_of_birth": "1985-02-03T00:00:00Z", "broker": str(agency.pk)}, format="json")
    assert r.status_code == 201 and r.json()["date_of_birth"] == "1985-02-03"
    policy = staff_client.post("/api/policies", {
        "customer_id": r.json()["id"], "policy_type": "home", "premium_amount": "200",
        "coverage_amount": 75000, "start_date": "2024-01-01", "end_date": "2024-12-31"},
        format="json").json()
    r = staff_client.post("/api/claims", {
        "policy_id": policy["id"], "claim_type": "fire", "claim_amount": 5000.00,
        "description": "Kitchen fire", "incident_date": "2024-06-15T23:30:00-08:00"},
        format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["incident_date"] == "2024-06-15" and r.json()["claim_amount"] == "5000.00"


# --- every date and amount in the API is one of the shared fields ------------------------

def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _request_properties(schema):
    for name, component in schema["components"]["schemas"].items():
        for prop, spec in (component.get("properties") or {}).items():
            if not spec.get("readOnly"):
                yield name, prop, spec


def test_every_request_date_and_amount_uses_the_shared_fields():
    """A plain DRF DateField or DecimalField in an input would refuse the seed's
    date-times or floats: every input date is date-or-date-time, every amount
    number-or-string."""
    schema = _schema()
    strays = []
    for component, prop, spec in _request_properties(schema):
        if not component.endswith("Request"):
            continue
        if spec.get("format") in ("date", "decimal"):
            strays.append(f"{component}.{prop}")
    assert strays == []
    dates = [spec for _, _, spec in _request_properties(schema)
             if {"type": "string", "format": "date-time"} in spec.get("anyOf", [])]
    assert len(dates) >= 4  # start_date, end_date, incident_date, date_of_birth
    json.dumps(schema)  # the schema serialises as it is served
