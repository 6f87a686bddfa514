"""The claims handling API as an integrator meets it (API.md, "Claims handling")."""

from decimal import Decimal

import pytest

from claims.models import ClaimPayment, IdempotencyKey
from compliance.models import AuditEntry
from tests.conftest import client_for
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def claim(agency):
    policy = PolicyFactory(customer=CustomerFactory(broker=agency), coverage_amount=D("20000"))
    return ClaimFactory(policy=policy, claim_amount=D("8000.00"), status="processing")


@pytest.fixture
def senior():
    return UserFactory(staff=True, authority_limit=D("50000.00"))


def url(claim, tail=""):
    return f"/api/claims/{claim.pk}{tail}"


def test_me(staff_client, staff, broker_client, broker, anon_client):
    body = staff_client.get("/api/auth/me").json()
    assert body == {"id": str(staff.pk), "email": staff.email, "role": "staff", "agency": None,
                    "authority_limit": "10000.00"}
    assert broker_client.get("/api/auth/me/").json()["agency"] == str(broker.agency_id)
    assert anon_client.get("/api/auth/me").status_code == 401


def test_claim_fields(staff_client, claim):
    body = staff_client.get(url(claim)).json()
    assert body["reserve"] == "0.00" and body["paid"] == "0.00" and body["incurred"] == "0.00"
    assert body["assignee_id"] is None and body["overdue"] is False
    assert body["status_since"] and "sla_due_at" in body


def test_assign_via_patch(staff_client, staff, broker_client, broker, claim):
    r = staff_client.patch(url(claim), {"assignee_id": str(staff.pk)}, format="json")
    assert r.status_code == 200 and r.json()["assignee_id"] == str(staff.pk)
    assert broker_client.patch(url(claim), {"assignee_id": str(staff.pk)},
                               format="json").status_code == 403
    r = staff_client.patch(url(claim), {"assignee_id": str(broker.pk)}, format="json")
    assert r.status_code == 400 and "assignee_id" in r.json()
    r = staff_client.patch(url(claim), {"assignee_id": None}, format="json")
    assert r.json()["assignee_id"] is None


def test_assignee_and_overdue_filters(staff_client, staff, claim):
    other = ClaimFactory()
    staff_client.patch(url(claim), {"assignee_id": str(staff.pk)}, format="json")
    ids = lambda q: {c["id"] for c in staff_client.get("/api/claims", q).json()["results"]}  # noqa: E731
    assert ids({"assignee": "me"}) == {str(claim.pk)}
    assert ids({"assignee": str(staff.pk)}) == {str(claim.pk)}
    assert str(other.pk) in ids({"assignee": "none"}) and str(claim.pk) not in \
        ids({"assignee": "none"})
    assert ids({"overdue": "true"}) == set()
    for bad in ({"assignee": "someone"}, {"overdue": "maybe"}):
        r = staff_client.get("/api/claims", bad)
        assert r.status_code == 400 and set(bad) <= set(r.json())


def test_patch_closed_is_409(staff_client, claim, senior):
    r = client_for(senior).patch(url(claim), {"status": "approved"}, format="json")
    assert r.status_code == 200
    r = staff_client.patch(url(claim), {"status": "closed"}, format="json")
    assert r.status_code == 409 and "final payment" in r.json()["detail"]


def test_notes_api(staff_client, broker_client, other_broker_client, claim):
    r = staff_client.post(url(claim, "/notes"), {"text": "Check fraud", "visibility":
                                                 "internal"}, format="json")
    assert r.status_code == 201 and r.json()["visibility"] == "internal"
    assert set(r.json()) == {"id", "claim_id", "visibility", "text", "author_id",
                             "author_name", "created_at"}
    r = broker_client.post(url(claim, "/notes/"), {"text": "Invoice attached",
                                                   "visibility": "shared"}, format="json")
    assert r.status_code == 201
    assert broker_client.post(url(claim, "/notes"), {"text": "x", "visibility": "internal"},
                              format="json").status_code == 403
    assert broker_client.post(url(claim, "/notes"), {"text": "", "visibility": "shared"},
                              format="json").status_code == 400
    assert [n["text"] for n in broker_client.get(url(claim, "/notes")).json()["results"]] == \
        ["Invoice attached"]
    assert len(staff_client.get(url(claim, "/notes")).json()["results"]) == 2
    assert other_broker_client.get(url(claim, "/notes")).status_code == 404
    assert other_broker_client.post(url(claim, "/notes"), {"text": "x", "visibility": "shared"},
                                    format="json").status_code == 404


def test_reserve_and_financials(staff_client, broker_client, other_broker_client, claim):
    r = staff_client.post(url(claim, "/reserve"), {"amount": 2500, "reason": "estimate"},
                          format="json")
    assert r.status_code == 201 and r.json()["amount"] == "2500.00"
    assert broker_client.post(url(claim, "/reserve"), {"amount": 1, "reason": "x"},
                              format="json").status_code == 403
    r = staff_client.post(url(claim, "/reserve"), {"amount": "20000.01", "reason": "x"},
                          format="json")
    assert r.status_code == 400 and "amount" in r.json()
    body = broker_client.get(url(claim, "/financials")).json()
    assert (body["reserve"], body["paid"], body["incurred"]) == ("2500.00", "0.00", "2500.00")
    assert len(body["reserve_changes"]) == 1 and body["payments"] == []
    assert other_broker_client.get(url(claim, "/financials")).status_code == 404


def _approve(claim, senior):
    assert client_for(senior).patch(url(claim), {"status": "approved"},
                                    format="json").status_code == 200


def test_payment_contract(staff_client, broker_client, other_broker_client, claim, senior):
    body = {"amount": "1000.00", "payee": "Garage"}
    r = staff_client.post(url(claim, "/payments"), body, format="json",
                          HTTP_IDEMPOTENCY_KEY="p-1")
    assert r.status_code == 409  # processing, not approved
    _approve(claim, senior)
    r = staff_client.post(url(claim, "/payments"), body, format="json")
    assert r.status_code == 400 and "Idempotency-Key" in r.json()
    r = staff_client.post(url(claim, "/payments"), body, format="json",
                          HTTP_IDEMPOTENCY_KEY="p-1")
    assert r.status_code == 201, r.json()
    first = r.json()
    r = staff_client.post(url(claim, "/payments/"), {"amount": 1000, "payee": "Garage"},
                          format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert r.status_code == 201 and r.json() == first and r["Idempotent-Replayed"] == "true"
    r = staff_client.post(url(claim, "/payments"), {"amount": "1.00", "payee": "Garage"},
                          format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert r.status_code == 409
    assert ClaimPayment.objects.filter(claim=claim).count() == 1
    assert IdempotencyKey.objects.count() == 1
    r = staff_client.post(url(claim, "/payments"), {"amount": "7000.01", "payee": "G"},
                          format="json", HTTP_IDEMPOTENCY_KEY="p-2")
    assert r.status_code == 400 and "amount" in r.json()
    assert broker_client.post(url(claim, "/payments"), body, format="json",
                              HTTP_IDEMPOTENCY_KEY="b-1").status_code == 403
    assert other_broker_client.post(url(claim, "/payments"), body, format="json",
                                    HTTP_IDEMPOTENCY_KEY="b-1").status_code == 404
    r = staff_client.post(url(claim, "/payments"), {"amount": "500", "payee": "G",
                                                    "final": True},
                          format="json", HTTP_IDEMPOTENCY_KEY="p-3")
    assert r.status_code == 201
    claim_body = staff_client.get(url(claim)).json()
    assert claim_body["status"] == "closed" and claim_body["paid"] == "1500.00"
    assert claim_body["reserve"] == "0.00" and claim_body["sla_due_at"] is None


def test_authority_limit_and_approvals_api(claim, senior, broker_client):
    handler = UserFactory(staff=True, authority_limit=D("5000.00"))
    hc, sc = client_for(handler), client_for(senior)
    r = hc.patch(url(claim), {"status": "approved"}, format="json")
    assert r.status_code == 202
    approval = r.json()
    assert {k: approval[k] for k in ("kind", "claim_id", "amount", "requested_by", "status")} \
        == {"kind": "claim_approval", "claim_id": str(claim.pk), "amount": "8000.00",
            "requested_by": str(handler.pk), "status": "pending"}
    assert hc.get(url(claim)).json()["status"] == "processing"
    listed = sc.get("/api/approvals", {"status": "pending"}).json()["results"]
    assert [a["id"] for a in listed] == [approval["id"]]
    assert broker_client.get("/api/approvals").status_code == 403
    assert sc.get("/api/approvals", {"status": "maybe"}).status_code == 400
    assert hc.post(f"/api/approvals/{approval['id']}/approve").status_code == 403
    r = sc.post(f"/api/approvals/{approval['id']}/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert sc.post(f"/api/approvals/{approval['id']}/reject").status_code == 409
    assert hc.get(url(claim)).json()["status"] == "approved"
    r = hc.post(url(claim, "/payments"), {"amount": "6000", "payee": "G"}, format="json",
                HTTP_IDEMPOTENCY_KEY="big")
    assert r.status_code == 202 and r.json()["kind"] == "payment"
    again = hc.post(url(claim, "/payments"), {"amount": "6000", "payee": "G"}, format="json",
                    HTTP_IDEMPOTENCY_KEY="big")
    assert again.status_code == 202 and again.json()["id"] == r.json()["id"]
    assert sc.post(f"/api/approvals/{r.json()['id']}/reject").json()["status"] == "rejected"
    assert hc.get(url(claim, "/financials")).json()["paid"] == "0.00"


def test_each_action_leaves_one_audit_entry(staff_client, staff, claim, senior):
    def count(kind):
        return AuditEntry.objects.filter(content_type__model=kind).count()

    staff_client.patch(url(claim), {"assignee_id": str(staff.pk)}, format="json")
    entry = AuditEntry.objects.filter(content_type__model="claim").order_by("-seq").first()
    assert "assignee" in entry.changes and entry.actor == staff
    before_claim = count("claim")
    staff_client.post(url(claim, "/notes"), {"text": "secret", "visibility": "internal"},
                      format="json")
    staff_client.post(url(claim, "/reserve"), {"amount": 100, "reason": "x"}, format="json")
    assert (count("claimnote"), count("reservechange"), count("claim")) == (1, 1, before_claim)
    note_entry = AuditEntry.objects.get(content_type__model="claimnote")
    assert "secret" not in str(note_entry.changes)
    _approve(claim, senior)
    staff_client.post(url(claim, "/payments"), {"amount": 10, "payee": "G"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="a-1")
    assert count("claimpayment") == 1
    r = staff_client.get("/api/audit-logs", {"resource_type": "payment"})
    assert r.status_code == 200 and r.json()["results"][0]["resource_type"] == "payment"


def test_a_note_is_measured_as_sent_and_blank_is_refused(staff_client, claim):
    from claims.services import MAX_NOTE_LENGTH

    url = f"/api/claims/{claim.pk}/notes"
    padded = "  " + "x" * (MAX_NOTE_LENGTH - 1)  # within the bound once trimmed, not as sent
    r = staff_client.post(url, {"text": padded, "visibility": "internal"}, format="json")
    assert r.status_code == 400 and "text" in r.json()
    r = staff_client.post(url, {"text": "   ", "visibility": "internal"}, format="json")
    assert r.status_code == 400 and "text" in r.json()
    r = staff_client.post(url, {"text": "  fine  ", "visibility": "internal"}, format="json")
    assert r.status_code == 201 and r.json()["text"] == "fine"
