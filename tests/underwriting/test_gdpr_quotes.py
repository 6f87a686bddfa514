"""GDPR export and erasure cover quotes: risk answers are personal data."""

import pytest

from compliance import chain, services
from compliance.models import AuditEntry
from policies.models import Quote
from tests.underwriting.conftest import make_policy, make_quote

pytestmark = pytest.mark.django_db


def test_export_lists_quotes_with_their_risk_answers(staff, broker, customer, staff_client):
    open_quote = make_quote(broker, customer, policy_type="home")
    policy = make_policy(broker, customer)
    data = staff_client.get(f"/api/customers/{customer.pk}/gdpr-export").json()
    by_id = {q["id"]: q for q in data["quotes"]}
    assert by_id[str(open_quote.pk)]["risk"]["construction"] == "masonry"
    assert by_id[str(policy.quote_id)]["policy_id"] == str(policy.pk)
    kinds = {e["resource_type"] for e in data["audit_entries"]}
    assert {"quote", "policy", "customer"} <= kinds


def test_erasure_clears_unbound_quotes_risk_everywhere(staff, broker, customer):
    open_quote = make_quote(broker, customer, policy_type="life")
    policy = make_policy(broker, customer)
    services.customer_erase(actor=staff, customer=customer)
    open_quote.refresh_from_db()
    assert open_quote.risk == {}
    assert Quote.objects.get(pk=policy.quote_id).risk != {}  # the contract's rating basis
    created = AuditEntry.objects.get(object_pk=str(open_quote.pk),
                                     action=AuditEntry.Action.CREATE)
    assert "smoker" not in str(created.changes["risk"])
    assert created.redacted_at is not None
    assert chain.verify().problem is None
    services.customer_erase(actor=staff, customer=customer)  # idempotent
