import datetime

from django.utils import timezone

from policies.models import Policy, PolicyStatus

TODAY = timezone.localdate()


def _form(**over):
    data = {"policy_type": "auto", "premium_amount": "450.00", "coverage_amount": "25000",
            "start_date": TODAY.isoformat(),
            "end_date": (TODAY + datetime.timedelta(days=365)).isoformat()}
    data.update(over)
    return data


def test_premium_below_the_minimum_is_shown_beside_the_premium(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/",
                           _form(premium_amount="99.99"))
    assert response.status_code == 400
    assert ('id="id_premium_amount_error_1">The premium for an auto policy must be at least '
            '£100.00.' in response.content.decode())
    assert not Policy.objects.exists()


def test_end_before_start_is_shown_beside_the_end_date(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/",
                           _form(end_date=TODAY.isoformat()))
    assert response.status_code == 400
    assert 'id="id_end_date_error_1">The end date must be after the start date.' in (
        response.content.decode())


def test_non_numeric_amount_is_a_form_error(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/",
                           _form(coverage_amount="lots"))
    assert response.status_code == 400
    assert 'id="id_coverage_amount_error_1"' in response.content.decode()


def test_erased_customer_gets_no_new_policy(portal, customer):
    customer.erased_at = timezone.now()
    customer.save()
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/", _form())
    assert response.status_code == 400
    assert "has been erased" in response.content.decode()


def test_create_then_detail(portal, customer):
    response = portal.post(f"/portal/customers/{customer.pk}/policies/new/", _form())
    policy = Policy.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/policies/{policy.pk}/"
    assert policy.status == PolicyStatus.ACTIVE
    body = portal.get(response.headers["Location"]).content.decode()
    assert policy.policy_number in body and "Report a claim" in body


def test_cancel_then_again_is_409(portal, policy):
    url = f"/portal/policies/{policy.pk}/cancel/"
    assert portal.post(url, {"reason": ""}).status_code == 400
    response = portal.post(url, {"reason": "Customer sold the car"})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.CANCELLED
    assert policy.cancellation_reason == "Customer sold the car"
    again = portal.post(url, {"reason": "again"})
    assert again.status_code == 409
    assert "already cancelled" in again.content.decode()
