"""Staff work in the admin: every list renders, searches, and actions go through services."""

import pytest
from django.urls import reverse

from claims.models import ClaimStatusChange
from tests.factories import PASSWORD, ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

MODELS = ["accounts/agency", "accounts/user", "customers/customer", "policies/policy",
          "claims/claim"]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def claim():
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(last_name="Kowalski")))


@pytest.mark.parametrize("model", MODELS)
def test_changelists_render_and_search(admin_client, claim, model):
    url = f"/admin/{model}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "Kowalski"}).status_code == 200


def test_change_pages_render(admin_client, claim):
    for obj, name in [(claim, "claims_claim"), (claim.policy, "policies_policy"),
                      (claim.policy.customer, "customers_customer")]:
        r = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert r.status_code == 200, name


def test_customer_search_finds_by_name(admin_client, claim):
    r = admin_client.get("/admin/customers/customer/", {"q": "kowal"})
    assert b"Kowalski" in r.content


def test_claim_actions_use_the_transition_service(admin_client, claim, staff):
    url = "/admin/claims/claim/"
    admin_client.post(url, {"action": "approve", "_selected_action": [claim.pk]})
    claim.refresh_from_db()
    assert claim.status == "pending"  # pending cannot be approved: refused, not forced
    admin_client.post(url, {"action": "start_processing", "_selected_action": [claim.pk]})
    admin_client.post(url, {"action": "approve", "_selected_action": [claim.pk]})
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.processed_date is not None
    changes = list(ClaimStatusChange.objects.filter(claim=claim).values_list(
        "to_status", "actor"))
    assert changes == [("processing", staff.pk), ("approved", staff.pk)]


def test_deny_action(admin_client, claim):
    admin_client.post("/admin/claims/claim/", {"action": "deny", "_selected_action": [claim.pk]})
    claim.refresh_from_db()
    assert claim.status == "denied"


def test_cancel_policy_action_needs_reason(admin_client, claim):
    policy = claim.policy
    url = "/admin/policies/policy/"
    admin_client.post(url, {"action": "cancel_policies", "_selected_action": [policy.pk],
                            "reason": ""})
    policy.refresh_from_db()
    assert policy.status == "active"
    admin_client.post(url, {"action": "cancel_policies", "_selected_action": [policy.pk],
                            "reason": "Customer request"})
    policy.refresh_from_db()
    assert policy.status == "cancelled" and policy.cancellation_reason == "Customer request"


def test_brokers_cannot_use_admin(client, broker):
    client.force_login(broker)
    r = client.get("/admin/claims/claim/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_admin_login_shares_the_lockout(client, staff):
    for _ in range(5):
        r = client.post("/admin/login/", {"username": staff.email, "password": "Wrong!Passw0rd"})
        assert r.status_code == 200
    r = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert r.status_code == 200 and b"Too many failed attempts" in r.content


def test_admin_login_works(client, staff):
    r = client.post("/admin/login/?next=/admin/", {"username": staff.email.upper(),
                                                   "password": PASSWORD})
    assert r.status_code == 302


def test_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    for _ in range(30):
        ClaimFactory()
    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/claims/claim/").status_code == 200
