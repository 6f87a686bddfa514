import re

import pytest

from customers.models import Customer
from tests.factories import CustomerFactory, PolicyFactory

HTMX = {"HX-Request": "true"}


def test_list_shows_only_the_agencys_customers(portal, customer, other_agency):
    CustomerFactory(broker=other_agency, first_name="Zed", last_name="Foreign")
    body = portal.get("/portal/customers/").content.decode()
    assert "Annabel Lee" in body
    assert "Foreign" not in body
    assert "1 customer" in body


def test_search_by_part_of_a_name_or_email(portal, customer, agency):
    CustomerFactory(broker=agency, first_name="Bob", last_name="Stone", email="bob@stone.test")
    body = portal.get("/portal/customers/", {"q": "nabe"}).content.decode()
    assert "Annabel Lee" in body and "Bob Stone" not in body
    body = portal.get("/portal/customers/", {"q": "STONE.TEST"}).content.decode()
    assert "Bob Stone" in body and "Annabel Lee" not in body
    body = portal.get("/portal/customers/", {"q": "bob sto"}).content.decode()
    assert "Bob Stone" in body and "Annabel Lee" not in body


def test_htmx_search_gets_only_the_results_partial(portal, customer):
    partial = portal.get("/portal/customers/", {"q": "annab"}, headers=HTMX)
    body = partial.content.decode()
    assert partial.status_code == 200
    assert body.lstrip().startswith('<section id="customer-results"')
    assert "<html" not in body and "Annabel Lee" in body
    assert "HX-Request" in partial.headers["Vary"]
    full = portal.get("/portal/customers/", {"q": "annab"}).content.decode()
    assert "<html" in full and 'hx-trigger="input changed delay:300ms, search"' in full


def test_an_overlong_search_is_400_beside_the_box(portal, db):
    response = portal.get("/portal/customers/", {"q": "x" * 101})
    assert response.status_code == 400
    assert 'id="id_q_error_1"' in response.content.decode()


def test_history_restore_gets_the_full_page(portal, customer):
    response = portal.get("/portal/customers/", headers={
        **HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def _list_queries(portal, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        assert portal.get("/portal/customers/", {"q": "a"}).status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_list_query_count_does_not_grow_with_rows(portal, agency, rows,
                                                  django_assert_num_queries):
    for _ in range(rows):
        PolicyFactory(customer=CustomerFactory(broker=agency, first_name="Ada"))
    # session, user, the user's agency (page header), count, one page of rows with
    # policy counts
    with django_assert_num_queries(5):
        response = portal.get("/portal/customers/", {"q": "ada"})
    assert len(re.findall(r'href="/portal/customers/[0-9a-f-]{36}/"',
                          response.content.decode())) == rows


def test_create_needs_consent_and_says_so_beside_the_box(portal, db):
    response = portal.post("/portal/customers/new/", {
        "first_name": "Cora", "last_name": "Hale", "email": "cora@example.test"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_gdpr_consent_error_1"' in body
    assert "GDPR consent is required" in body
    assert not Customer.objects.filter(email="cora@example.test").exists()


def test_create_reports_a_duplicate_email_beside_the_field(portal, customer):
    response = portal.post("/portal/customers/new/", {
        "first_name": "Ann", "last_name": "Other", "email": "ANNABEL.LEE@example.test",
        "gdpr_consent": "on"})
    assert response.status_code == 400
    assert 'id="id_email_error_1">A customer with this email already exists.' in (
        response.content.decode())


def test_create_reports_a_bad_phone_beside_the_field(portal, db):
    response = portal.post("/portal/customers/new/", {
        "first_name": "Ann", "last_name": "Other", "email": "ann@example.test",
        "phone": "12", "gdpr_consent": "on"})
    assert response.status_code == 400
    assert 'id="id_phone_error_1">This phone number is too short.' in (
        response.content.decode())


def test_create_then_detail(portal, broker):
    response = portal.post("/portal/customers/new/", {
        "first_name": "Cora", "last_name": "Hale", "email": "cora@example.test",
        "phone": "+44 20 7946 0958", "date_of_birth": "1990-02-03", "gdpr_consent": "on"})
    customer = Customer.objects.get(email="cora@example.test")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/customers/{customer.pk}/"
    assert customer.broker_id == broker.agency_id and customer.gdpr_consent_date
    body = portal.get(response.headers["Location"]).content.decode()
    assert "Cora Hale" in body and "+442079460958" in body and "Customer Cora Hale added." in body


def test_detail_lists_policies_and_claims(portal, claim):
    customer = claim.policy.customer
    body = portal.get(f"/portal/customers/{customer.pk}/").content.decode()
    assert claim.policy.policy_number in body
    assert claim.claim_number in body
    assert f'data-live-claim="{claim.pk}"' in body


def test_the_lists_name_an_erased_customer_as_erased_and_hide_the_email(portal, agency):
    from django.utils import timezone

    from tests.factories import ClaimFactory

    gone = CustomerFactory(broker=agency, first_name="Vera", last_name="Gone",
                           email="vera.gone@example.test", erased_at=timezone.now())
    ClaimFactory(policy=PolicyFactory(customer=gone))
    customers = portal.get("/portal/customers/").content.decode()
    claims = portal.get("/portal/claims/").content.decode()
    for page in (customers, claims):
        assert f"Erased customer {str(gone.pk)[:8]}" in page
        assert "Vera" not in page and "vera.gone@example.test" not in page
    assert f'href="/portal/customers/{gone.pk}/"' in customers
