"""The admin claim workspace through Django's test client: every form and button goes
through the services, with their messages; queues and counts; the dashboard."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.models import ClaimApproval, ClaimNote, ClaimPayment
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def handler():
    return UserFactory(staff=True, first_name="Hana", last_name="Handler",
                       authority_limit=D("5000.00"))


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client
    return login


@pytest.fixture
def claim(agency):
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency),
                                             coverage_amount=D("20000")),
                        claim_amount=D("8000.00"), status="processing")


def page(client, claim):
    return client.get(reverse("admin:claims_claim_change", args=[claim.pk]))


def post(client, claim, form, data):
    data = {f"{form}-{key}": value for key, value in data.items()}
    return client.post(reverse("admin:claims_claim_workspace", args=[claim.pk, form]), data,
                       follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_workspace_renders_without_save_buttons(client_of, handler, claim):
    r = page(client_of(handler), claim)
    html = r.content.decode()
    assert r.status_code == 200
    assert f"Claim {claim.claim_number}" in html and "Change claim" not in html
    assert 'name="_save"' not in html and 'value="Save' not in html
    assert "Reported (pending)" in html
    assert "Approve" in html and "Start processing" not in html
    assert client_of(handler).post(reverse("admin:claims_claim_change", args=[claim.pk]),
                                   {}).status_code == 405


def test_note_reserve_assign_forms(client_of, handler, claim):
    c = client_of(handler)
    r = post(c, claim, "note", {"text": "Call the garage", "visibility": "internal"})
    assert "Note added." in messages_of(r)
    assert ClaimNote.objects.get(claim=claim).visibility == "internal"
    r = post(c, claim, "reserve", {"amount": "25000", "reason": "x"})
    assert any("coverage" in m for m in messages_of(r))
    r = post(c, claim, "reserve", {"amount": "3000", "reason": "valuation"})
    claim.refresh_from_db()
    assert claim.reserve == D("3000.00") and "Reserve set to 3000.00." in messages_of(r)
    r = post(c, claim, "assign", {"assignee": str(handler.pk)})
    claim.refresh_from_db()
    assert claim.assignee == handler and "Assigned to Hana Handler." in messages_of(r)
    r = post(c, claim, "note", {"text": "", "visibility": "internal"})
    assert any(m.startswith("Note:") for m in messages_of(r))


def test_buttons_and_four_eyes(client_of, handler, claim):
    c = client_of(handler)
    tool = reverse("admin:claims_claim_actions", args=[claim.pk, "approve_one"])
    r = c.post(tool, follow=True)
    assert any("above your authority limit" in m for m in messages_of(r))
    approval = ClaimApproval.objects.get(claim=claim, status="pending")
    decide = reverse("admin:claims_claim_approval", args=[claim.pk, approval.pk, "approve"])
    r = c.post(decide, follow=True)
    assert any("second person" in m for m in messages_of(r))
    senior = UserFactory(staff=True, authority_limit=D("10000"))
    r = client_of(senior).post(decide, follow=True)
    assert "Approved: claim approval of 8000.00." in messages_of(r)
    claim.refresh_from_db()
    assert claim.status == "approved"


def test_payment_form_pays_once_and_final_closes(client_of, handler, claim):
    claim.status, claim.processed_date = "approved", timezone.now()
    claim.save()
    c = client_of(handler)
    data = {"amount": "4200.00", "payee": "Margaret Thornton-Wellington of Lower Spratton",
            "final": "on",
            "idempotency_key": "admin-form-1"}
    r = post(c, claim, "payment", data)
    assert ("Paid 4200.00 to Margaret Thornton-Wellington of Lower Spratton (final: claim "
            "closed).") in messages_of(r)
    r = post(c, claim, "payment", data)
    assert any("already sent" in m for m in messages_of(r))
    assert ClaimPayment.objects.filter(claim=claim).count() == 1
    claim.refresh_from_db()
    assert claim.status == "closed"


def test_queues_with_counts(client_of, handler, claim):
    services.claim_assign(claim_id=claim.pk, assignee_id=handler.pk, actor=handler)
    ClaimFactory()
    c = client_of(handler)
    r = c.get("/admin/claims/claim/", {"queue": "mine"})
    queues = {q["key"]: q["count"] for q in r.context["queues"]}
    assert queues == {"mine": 1, "open": 2, "unassigned": 1, "overdue": 0, "approval": 0}
    assert list(r.context["cl"].result_list) == [claim]


def test_my_queue_puts_the_most_overdue_first(client_of, handler):
    now = timezone.now()
    hours = [5, -1, -30]  # due in 5 hours, 1 hour late, 30 hours late
    claims = [ClaimFactory(assignee=handler, sla_due_at=now + datetime.timedelta(hours=h))
              for h in hours]
    r = client_of(handler).get("/admin/claims/claim/", {"queue": "mine"})
    assert list(r.context["cl"].result_list) == [claims[2], claims[1], claims[0]]
    html = r.content.decode()
    assert html.count("overdue</span>") == 2


def test_dashboard_on_the_index(client_of, handler, claim):
    r = client_of(handler).get("/admin/")
    html = r.content.decode()
    assert "claims-dashboard" in html and "Loss ratio by product" in html
    assert "/admin/claims/claim/?status__exact=processing" in html


def test_groups_and_token_blacklist_for_superusers_only(client_of, handler):
    html = client_of(handler).get("/admin/").content.decode()
    assert "/admin/auth/group/" not in html and "token_blacklist" not in html
    assert client_of(handler).get("/admin/auth/group/").status_code == 403
    boss = UserFactory(staff=True, is_superuser=True)
    html = client_of(boss).get("/admin/").content.decode()
    assert "/admin/auth/group/" in html


def test_audit_list_names_people_and_objects(client_of, handler, claim):
    services.claim_assign(claim_id=claim.pk, assignee_id=handler.pk, actor=handler)
    html = client_of(handler).get("/admin/compliance/auditentry/").content.decode()
    assert "Hana Handler" in html
    assert reverse("admin:claims_claim_change", args=[claim.pk]) in html
    assert reverse("admin:accounts_user_change", args=[handler.pk]) in html


def test_authority_limit_is_edited_on_the_user_page(client_of, handler):
    boss = UserFactory(staff=True, is_superuser=True)
    html = client_of(boss).get(reverse("admin:accounts_user_change", args=[handler.pk])
                               ).content.decode()
    assert 'name="authority_limit"' in html and "5000.00" in html
    html = client_of(handler).get(reverse("admin:accounts_user_change", args=[handler.pk])
                                  ).content.decode()
    assert 'name="groups"' not in html
