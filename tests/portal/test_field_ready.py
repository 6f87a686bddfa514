"""What the first brokers and staff tripped on: amounts, grammar, preselected
choices, phone numbers, dates in messages, the error summary."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from claims.services import TransitionNotAllowed, claim_transition
from customers.models import Customer
from customers.services import CustomerInvalid, customer_create, phone_normalize
from policies.models import Policy
from policies.services import PolicyInvalid, policy_create
from tests.factories import ClaimFactory, PolicyFactory

TODAY = timezone.localdate()


# --- Amounts ---------------------------------------------------------------------

@pytest.fixture
def book(customer):
    auto = PolicyFactory(customer=customer, premium_amount=Decimal("999.24"),
                         coverage_amount=Decimal("250000.00"))
    PolicyFactory(customer=customer, premium_amount=Decimal("999.24"))
    claim = ClaimFactory(policy=auto, claim_amount=Decimal("12345.67"))
    return {"policy": auto, "claim": claim}


def test_dashboard_sums_are_quantized_with_currency_and_separators(portal, book):
    body = portal.get("/portal/").content.decode()
    assert "£1,998.48" in body
    assert "1998.48" not in body


@pytest.mark.parametrize("page", ["claims", "customer", "policy", "claim"])
def test_amounts_show_currency_and_separators(portal, book, customer, page):
    url = {"claims": "/portal/claims/", "customer": f"/portal/customers/{customer.pk}/",
           "policy": f"/portal/policies/{book['policy'].pk}/",
           "claim": f"/portal/claims/{book['claim'].pk}/"}[page]
    body = portal.get(url).content.decode()
    assert "£12,345.67" in body or "£999.24" in body
    assert "12345.67" not in body
    if page == "policy":
        assert "£250,000.00" in body and "£999.24" in body


def test_the_currency_comes_from_the_setting(portal, book, settings):
    settings.CURRENCY = "EUR"
    assert "€12,345.67" in portal.get("/portal/claims/").content.decode()


def test_claim_form_states_the_coverage_as_money(portal, book):
    body = portal.get(f"/portal/policies/{book['policy'].pk}/claims/new/").content.decode()
    assert "coverage £250,000.00" in body


def test_policy_form_states_the_minimums_as_money(portal, customer):
    body = portal.get(f"/portal/customers/{customer.pk}/policies/new/").content.decode()
    assert "auto £100.00" in body


def test_tables_label_every_cell_for_narrow_screens(portal, book, customer):
    body = portal.get("/portal/claims/").content.decode()
    assert '<table class="stack">' in body
    for label in ("Claim", "Customer", "Amount", "Status"):
        assert f'data-label="{label}"' in body


# --- Grammar ---------------------------------------------------------------------

def test_a_final_claim_is_named_with_the_right_article(book, staff):
    claim = ClaimFactory(policy=book["policy"], status=ClaimStatus.APPROVED,
                         processed_date=timezone.now())
    with pytest.raises(TransitionNotAllowed) as caught:
        claim_transition(claim_id=claim.pk, to=ClaimStatus.PENDING, actor=staff)
    # An approved claim is not final: a final payment closes it.
    assert caught.value.message == ("An approved claim cannot become pending; it is closed "
                                    "by a final payment.")
    claim.status = ClaimStatus.DENIED
    claim.save()
    with pytest.raises(TransitionNotAllowed) as caught:
        claim_transition(claim_id=claim.pk, to=ClaimStatus.PENDING, actor=staff)
    assert caught.value.message == "A denied claim is final and cannot become pending."
    with pytest.raises(TransitionNotAllowed) as caught:
        claim_transition(claim_id=book["claim"].pk, to=ClaimStatus.APPROVED, actor=staff)
    assert caught.value.message.startswith("A pending claim cannot become approved;")


@pytest.mark.parametrize(("kind", "text"), [
    ("auto", "The premium for an auto policy must be at least £100.00."),
    ("home", "The premium for a home policy must be at least £100.00."),
])
def test_premium_minimum_message_reads_well(broker, customer, kind, text):
    with pytest.raises(PolicyInvalid) as caught:
        policy_create(actor=broker, customer_id=customer.pk, policy_type=kind,
                      premium_amount=Decimal("5"), coverage_amount=Decimal("1000"),
                      start_date=TODAY, end_date=TODAY + datetime.timedelta(days=30))
    assert caught.value.message == text


def test_admin_actions_count_in_words(client, staff, book):
    client.force_login(staff)
    other = ClaimFactory(policy=book["policy"])
    response = client.post("/admin/claims/claim/", {
        "action": "start_processing", "_selected_action": [book["claim"].pk]}, follow=True)
    assert "1 claim now processing." in response.content.decode()
    assert "claim(s)" not in response.content.decode()
    ClaimFactory(policy=book["policy"])
    response = client.post("/admin/claims/claim/", {
        "action": "start_processing",
        "_selected_action": [other.pk, *Claim.objects.filter(status="pending")
                             .exclude(pk=other.pk).values_list("pk", flat=True)]}, follow=True)
    assert "2 claims now processing." in response.content.decode()
    response = client.post("/admin/policies/policy/", {
        "action": "cancel_policies", "_selected_action": [book["policy"].pk],
        "reason": "Sold the car"}, follow=True)
    assert "Cancelled 1 policy." in response.content.decode()


def test_admin_lists_show_amounts_as_money_and_dates_as_the_portal(client, staff, book):
    client.force_login(staff)
    claims = client.get("/admin/claims/claim/").content.decode()
    assert "£12,345.67" in claims
    incident = book["claim"].incident_date
    assert f"{incident.day} {incident:%b %Y}" in claims
    policies = client.get("/admin/policies/policy/").content.decode()
    assert "£999.24" in policies and "£250,000.00" in policies


# --- No silently preselected choices ---------------------------------------------

def test_claim_type_starts_unchosen_and_is_required(portal, book):
    url = f"/portal/policies/{book['policy'].pk}/claims/new/"
    body = portal.get(url).content.decode()
    assert '<option value="" selected>Choose…</option>' in body
    response = portal.post(url, {"claim_type": "", "incident_date": TODAY.isoformat(),
                                 "claim_amount": "100"})
    assert response.status_code == 400
    assert 'id="id_claim_type_error_1">Choose the type of claim.' in response.content.decode()
    assert Claim.objects.count() == 1


def test_policy_type_starts_unchosen_and_is_required(portal, customer):
    url = f"/portal/customers/{customer.pk}/policies/new/"
    body = portal.get(url).content.decode()
    assert '<option value="" selected>Choose…</option>' in body
    response = portal.post(url, {"premium_amount": "450", "coverage_amount": "25000",
                                 "start_date": TODAY.isoformat(),
                                 "end_date": (TODAY + datetime.timedelta(days=30)).isoformat()})
    assert response.status_code == 400
    assert 'id="id_policy_type_error_1">Choose the type of policy.' in response.content.decode()
    assert not Policy.objects.exists()


# --- Phone numbers as people type them -------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("07700 900123", "+447700900123"),
    ("+44 7700 900123", "+447700900123"),
    ("(020) 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("+1 (415) 555-0123", "+14155550123"),
    ("+15557771234", "+15557771234"),
])
def test_phone_numbers_are_read_as_typed_and_kept_in_e164(typed, stored):
    assert phone_normalize(typed) == stored


def test_the_default_region_comes_from_the_setting(settings):
    settings.PHONE_DEFAULT_REGION = "US"
    assert phone_normalize("(415) 555-0123") == "+14155550123"
    settings.PHONE_DEFAULT_REGION = "FR"
    assert phone_normalize("06 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(("typed", "why"), [
    ("07700 90012", "This phone number has too few or too many digits."),
    ("12", "This phone number is too short."),
    ("07700 900123 4567", "This phone number is too long."),
    ("+999 1234 5678", "This phone number's country code is unknown."),
    ("call me", "Enter a phone number, e.g. 07700 900123 or +44 7700 900123."),
    ("020 7946 0958 ext. 12", "Leave the extension out of the phone number."),
])
def test_a_wrong_phone_number_says_what_is_wrong(typed, why):
    with pytest.raises(CustomerInvalid) as caught:
        phone_normalize(typed)
    assert caught.value.field == "phone"
    assert caught.value.message == why


def test_the_service_stores_e164_encrypted(broker):
    customer = customer_create(actor=broker, email="p@example.test", first_name="P",
                               last_name="R", gdpr_consent=True, phone="07700 900123")
    assert Customer.objects.get(pk=customer.pk).phone == "+447700900123"
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_customer WHERE id = %s", [str(customer.pk)])
        assert "7700900123" not in cursor.fetchone()[0]


def test_the_portal_takes_a_phone_as_typed(portal):
    response = portal.post("/portal/customers/new/", {
        "first_name": "Priya", "last_name": "Raman", "email": "priya@example.test",
        "phone": "07700 900123", "gdpr_consent": "on"})
    assert response.status_code == 302
    customer = Customer.objects.get(email="priya@example.test")
    assert customer.phone == "+447700900123"
    assert "+447700900123" in portal.get(response.headers["Location"]).content.decode()


def test_the_api_takes_a_phone_as_typed_and_answers_e164(broker_client):
    response = broker_client.post("/api/customers", {
        "email": "api@example.test", "first_name": "A", "last_name": "B",
        "gdpr_consent": True, "phone": "+44 7700 900123"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+447700900123"
    patched = broker_client.patch(f"/api/customers/{response.json()['id']}",
                                  {"phone": "(020) 7946 0958"}, format="json")
    assert patched.status_code == 200 and patched.json()["phone"] == "+442079460958"
    bad = broker_client.patch(f"/api/customers/{response.json()['id']}",
                              {"phone": "07700 90012"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()


def test_the_admin_takes_a_phone_as_typed(client, staff, customer):
    client.force_login(staff)
    url = f"/admin/customers/customer/{customer.pk}/change/"
    data = {"email": customer.email, "first_name": customer.first_name,
            "last_name": customer.last_name, "phone": "07700 900123",
            "date_of_birth": "1980-05-17", "address": "1 Example Street",
            "broker": customer.broker_id}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.phone == "+447700900123"
    response = client.post(url, {**data, "phone": "12"})
    assert response.status_code == 200
    assert "This phone number is too short." in response.content.decode()


# --- Dates in messages as on the pages; the error summary ------------------------

def test_a_date_in_an_error_reads_as_on_the_pages(portal, book):
    policy = book["policy"]
    response = portal.post(f"/portal/policies/{policy.pk}/claims/new/", {
        "claim_type": "theft", "claim_amount": "100",
        "incident_date": (policy.start_date - datetime.timedelta(days=5)).isoformat()})
    body = response.content.decode()
    start, end = policy.start_date, policy.end_date
    assert (f"({start.day} {start:%b %Y} to {end.day} {end:%b %Y})") in body
    assert start.isoformat() not in body


def test_the_error_summary_lists_each_field_with_a_link(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/", {
        "premium_amount": "lots"})
    body = response.content.decode()
    assert 'data-error-summary' in body and 'tabindex="-1"' in body
    assert "There are 5 problems" in body
    for field in ("policy_type", "premium_amount", "coverage_amount", "start_date", "end_date"):
        assert f'<a href="#id_{field}" data-focus="id_{field}">' in body


def test_the_error_summary_script_is_served_not_inline(portal, customer):
    body = portal.get(f"/portal/customers/{customer.pk}/policies/new/").content.decode()
    assert "js/portal.js" in body and "<script>" not in body
    from pathlib import Path

    from django.conf import settings
    script = (Path(settings.BASE_DIR) / "static" / "js" / "portal.js").read_text()
    assert "[data-error-summary]" in script and ".focus()" in script


def test_the_admin_asks_a_date_of_birth_in_a_date_box_not_a_text_area(client, staff, customer):
    client.force_login(staff)
    url = f"/admin/customers/customer/{customer.pk}/change/"
    body = client.get(url).content.decode()
    assert '<textarea name="date_of_birth"' not in body
    assert 'name="date_of_birth"' in body and "vDateField" in body
    data = {"email": customer.email, "first_name": customer.first_name,
            "last_name": customer.last_name, "phone": "", "address": "",
            "date_of_birth": (TODAY + datetime.timedelta(days=1)).isoformat(),
            "broker": customer.broker_id}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in response.content.decode()


def test_an_incident_after_cancellation_names_the_day_as_the_pages_do(broker, book, staff):
    from claims.services import ClaimInvalid, claim_create
    from policies.services import policy_cancel

    policy = policy_cancel(actor=staff, policy=book["policy"], reason="Sold")
    with pytest.raises(ClaimInvalid) as caught:
        claim_create(actor=broker, policy_id=policy.pk, claim_type="theft",
                     claim_amount=Decimal("10"), incident_date=TODAY)
    cancelled = timezone.localdate(policy.cancelled_at)
    assert caught.value.message == (
        f"The incident happened after the policy was cancelled on "
        f"{cancelled.day} {cancelled:%b %Y}.")


def test_the_admin_policy_page_shows_amounts_as_money(client, staff, book):
    client.force_login(staff)
    body = client.get(f"/admin/policies/policy/{book['policy'].pk}/change/").content.decode()
    assert "£999.24" in body and "£250,000.00" in body
    assert "250000.00" not in body


def test_a_number_already_in_e164_is_taken_as_written():
    # The seed's clients send "+1234567890": E.164 as their systems store it, although
    # the North American plan wants one more digit. Typed with spaces it is checked.
    assert phone_normalize("+1234567890") == "+1234567890"
    with pytest.raises(CustomerInvalid):
        phone_normalize("+1 234 567 890")
    with pytest.raises(CustomerInvalid):
        phone_normalize("+9991234567")
