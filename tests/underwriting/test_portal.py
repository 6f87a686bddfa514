"""Brokers quote (premium live as they type), bind in one click and endorse in the portal."""

from decimal import Decimal

import pytest
from django.test import Client

from policies.models import Endorsement, Policy, Quote
from tests.factories import CustomerFactory, PolicyFactory
from tests.underwriting.conftest import DAY, TODAY, make_policy, make_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(broker):
    client = Client()
    client.force_login(broker)
    return client


def _auto(**over):
    data = {"policy_type": "auto", "coverage_amount": "20000", "start_date": TODAY.isoformat(),
            "end_date": "", "vehicle_value": "25000", "annual_mileage": "8000",
            "prior_claims": "1", "rebuild_value": "", "construction": "masonry",
            "flood_zone": "false", "smoker": "false", "deductible": ""}
    data.update(over)
    return data


def test_live_premium_and_breakdown(portal, customer):
    url = f"/portal/customers/{customer.pk}/quotes/preview/"
    response = portal.post(url, _auto(), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-premium="728.00"' in html and 'data-code="factor.prior_claims"' in html
    assert "<html" not in html  # a fragment, not a page
    declined = portal.post(url, _auto(prior_claims="5")).content.decode()
    assert "Declined" in declined and "More than 3 claims" in declined
    missing = portal.post(url, _auto(vehicle_value="")).content.decode()
    assert "Vehicle value" in missing and "required" in missing
    assert not Quote.objects.exists()  # previews record nothing


def test_quote_form_posts_previews_as_you_type(portal, customer):
    html = portal.get(f"/portal/customers/{customer.pk}/quotes/new/").content.decode()
    assert f'hx-post="/portal/customers/{customer.pk}/quotes/preview/"' in html
    assert "delay:400ms" in html and 'id="premium"' in html
    assert 'data-product="health"' in html


def test_quote_then_bind_in_one_click(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/quotes/new/", _auto())
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/quotes/{quote.pk}/")
    page = portal.get(response["Location"]).content.decode()
    assert "Bind for 728.00" in page
    bound = portal.post(f"/portal/quotes/{quote.pk}/bind/")
    policy = Policy.objects.get(quote=quote)
    assert bound.status_code == 302 and str(policy.pk) in bound["Location"]
    again = portal.post(f"/portal/quotes/{quote.pk}/bind/", follow=True)
    assert "already bound" in again.content.decode()
    assert Policy.objects.count() == 1
    customer_page = portal.get(f"/portal/customers/{customer.pk}/").content.decode()
    assert quote.quote_number in customer_page


def test_quote_errors_are_shown_beside_fields(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/quotes/new/",
                           _auto(vehicle_value="", start_date=(TODAY - DAY).isoformat()))
    assert response.status_code == 400
    assert not Quote.objects.exists()


def test_other_agency_cannot_see_or_bind(broker, customer, other_broker):
    quote = make_quote(broker, customer)
    client = Client()
    client.force_login(other_broker)
    assert client.get(f"/portal/quotes/{quote.pk}/").status_code == 404
    assert client.post(f"/portal/quotes/{quote.pk}/bind/").status_code == 404
    assert client.post(f"/portal/customers/{customer.pk}/quotes/preview/",
                       _auto()).status_code == 404
    assert not Policy.objects.exists()


def test_endorsement_shows_the_premium_change_before_confirming(portal, broker, customer):
    policy = make_policy(broker, customer)
    url = f"/portal/policies/{policy.pk}/endorse/"
    form = {"effective_date": TODAY.isoformat(), "reason": "New car", "coverage_amount": "",
            "end_date": "", "vehicle_value": "50000", "annual_mileage": "", "prior_claims": ""}
    preview = portal.post(url, {**form, "confirm": "no"})
    html = preview.content.decode()
    assert preview.status_code == 200 and 'data-delta="105.00"' in html
    assert "Confirm the change" in html and not Endorsement.objects.exists()
    done = portal.post(url, {**form, "confirm": "yes"})
    assert done.status_code == 302
    policy.refresh_from_db()
    assert policy.version == 2 and policy.premium_amount == Decimal("833.00")
    page = portal.get(f"/portal/policies/{policy.pk}/").content.decode()
    assert "Versions and endorsements" in page and "Vehicle value: 25000.00 → 50000.00" in page


def test_direct_policy_cannot_be_endorsed_in_the_portal(portal, customer):
    policy = PolicyFactory(customer=customer)
    assert "Make a new quote instead" in portal.get(
        f"/portal/policies/{policy.pk}/endorse/").content.decode()
    response = portal.post(f"/portal/policies/{policy.pk}/endorse/", {
        "effective_date": TODAY.isoformat(), "reason": "x", "coverage_amount": "5",
        "confirm": "yes"})
    assert response.status_code == 409


def test_staff_may_look_but_not_quote(staff, customer):
    client = Client()
    client.force_login(staff)
    assert client.get(f"/portal/customers/{customer.pk}/quotes/new/").status_code == 200
    assert client.post(f"/portal/customers/{customer.pk}/quotes/new/", _auto()).status_code == 403


def test_customer_without_birth_date_is_told(portal, agency):
    customer = CustomerFactory(broker=agency, date_of_birth=None)
    html = portal.post(f"/portal/customers/{customer.pk}/quotes/preview/",
                       _auto()).content.decode()
    assert "date of birth" in html


def test_portal_cancel_from_a_date_shows_the_refund(portal, broker, customer):
    policy = make_policy(broker, customer)
    response = portal.post(f"/portal/policies/{policy.pk}/cancel/",
                           {"reason": "Sold the car", "effective_date": TODAY.isoformat()},
                           follow=True)
    assert "refund 728.00" in response.content.decode()
    bad = portal.post(f"/portal/policies/{make_policy(broker, customer).pk}/cancel/",
                      {"reason": "x", "effective_date": (TODAY + DAY).isoformat()})
    assert bad.status_code == 400 and "after today" in bad.content.decode()
