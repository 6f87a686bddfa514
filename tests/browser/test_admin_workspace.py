"""A claims team's day in the admin, in a real browser: a handler assigns a claim
to themself, starts it, writes a note, sets the reserve, asks for approval above
their authority limit; a second handler approves; a final payment closes it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import services
from tests.browser.test_portal_flow import (
    CHROMIUM,  # noqa: F401 - the module's skip conditions apply here too
    SCREENSHOTS,
    TIMEOUT_MS,
    _watch_console,
    pytestmark,  # noqa: F401
)
from tests.factories import PASSWORD, AgencyFactory, CustomerFactory, PolicyFactory, UserFactory


@pytest.fixture
def team(transactional_db):
    agency = AgencyFactory(name="Harbour Brokers")
    broker = UserFactory(agency=agency, email="broker@harbour.test", first_name="Bea",
                         last_name="Broker")
    handler = UserFactory(staff=True, email="hana@insurer.test", first_name="Hana",
                          last_name="Handler", authority_limit=Decimal("5000.00"))
    senior = UserFactory(staff=True, email="sam@insurer.test", first_name="Sam",
                         last_name="Senior", authority_limit=Decimal("50000.00"))
    customer = CustomerFactory(broker=agency, first_name="Margaret", last_name="Thornton")
    policy = PolicyFactory(customer=customer, coverage_amount=Decimal("20000.00"),
                           policy_number="POL-4A7B9C21")
    claim = services.claim_create(
        actor=broker, policy_id=policy.pk, claim_type="theft",
        claim_amount=Decimal("8000.00"), description="Car stolen from the driveway overnight.",
        incident_date=timezone.localdate() - datetime.timedelta(days=2))
    return {"handler": handler, "senior": senior, "claim": claim, "broker": broker}


def _sign_in(browser, server, user):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    return page


def _shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"admin-{name}.png"), full_page=True)


def test_claims_team_works_a_claim_in_the_admin(server, team, browser):  # noqa: F811
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    claim = team["claim"]
    problems: list[str] = []
    page = _sign_in(browser, server, team["handler"])
    _watch_console(page, problems)

    # The index is a dashboard: one pending claim, nothing overdue yet.
    expect(page.locator("#claims-dashboard")).to_contain_text("open claims")
    assert "Groups" not in page.locator("#content-main").inner_text()
    _shot(page, "01-dashboard")

    # The queues: the new claim is unassigned.
    page.get_by_role("link", name=re.compile("open claims")).click()
    page.locator(".ws-queues").get_by_role("link", name=re.compile("^Unassigned")).click()
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text(claim.claim_number)
    box = page.locator("#result_list tbody tr th").first.bounding_box()
    assert box["height"] < 40, "claim numbers stay on one line at 1280 px"
    table = page.locator("#result_list").bounding_box()
    filters = page.locator("#changelist-filter").bounding_box()
    assert table["x"] + table["width"] <= filters["x"], "the list fits beside its filters"
    expect(page.get_by_role("heading", name="Unassigned")).to_be_visible()
    _shot(page, "02-queue-unassigned")

    # The claim page is a workspace: its history starts with the report.
    page.get_by_role("link", name=claim.claim_number).click()
    expect(page.get_by_role("heading", name=f"Claim {claim.claim_number}")).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Reported (pending)")
    expect(timeline).to_contain_text("Bea Broker")
    assert page.locator("input[type=submit][value=Save]").count() == 0
    assert page.get_by_role("button", name="Approve").count() == 0  # pending: not yet

    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".messagelist")).to_contain_text("Assigned to you.")
    page.get_by_role("button", name="Start processing").click()
    expect(page.locator(".ws-badge")).to_have_text("Processing")

    # The broker has the claim open in the portal: shared notes arrive live there,
    # internal ones never do.
    portal = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _watch_console(portal, problems)
    portal.goto(f"{server.url}/portal/login/?next=/portal/claims/{claim.pk}/")
    portal.get_by_label("Email").fill(team["broker"].email)
    portal.get_by_label("Password").fill(PASSWORD)
    portal.get_by_role("button", name="Sign in").click()
    expect(portal.locator("body")).to_have_attribute("data-live-subscribed", "1")

    page.get_by_role("textbox", name="Note").fill("Police report number requested from the broker.")
    page.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Police report number requested")
    expect(timeline).to_contain_text("Internal note")
    page.get_by_role("textbox", name="Note").fill("Please send us the police report number.")
    page.get_by_label("Shared with the broker").check()
    page.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Shared note")
    expect(portal.locator("#claim-notes")).to_contain_text("Please send us the police report")
    expect(portal.locator("#claim-notes")).not_to_contain_text("Police report number requested")

    page.get_by_label("New reserve").fill("6000.00")
    page.get_by_label("Reason").fill("Vehicle valuation")
    page.get_by_role("button", name="Set reserve").click()
    expect(page.locator("#ws-reserve")).to_contain_text("6,000.00")

    # 8000.00 is above Hana's 5000.00: the approval waits for a second person.
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text("above your authority limit")
    expect(page.locator(".ws-badge")).to_have_text("Processing")
    expect(page.locator(".ws-attention")).to_contain_text("A second person")
    _shot(page, "03-claim-waiting-for-approval")

    # Sam sees it in his queue and approves it from the claim page.
    senior = _sign_in(browser, server, team["senior"])
    _watch_console(senior, problems)
    senior.goto(f"{server.url}/admin/claims/claim/?queue=approval")
    expect(senior.locator("#result_list")).to_contain_text(claim.claim_number)
    expect(senior.locator(".ws-queues a.current")).to_contain_text("1")
    senior.get_by_role("link", name=claim.claim_number).click()
    senior.locator(".ws-attention").get_by_role("button", name="Approve").click()
    expect(senior.locator(".messagelist")).to_contain_text("Approved: claim approval")
    expect(senior.locator(".ws-badge")).to_have_text("Approved")

    # Hana pays; the final payment closes the claim.
    page.reload()
    expect(page.locator(".ws-badge")).to_have_text("Approved")
    page.get_by_label("Pay amount").fill("4200.00")
    page.get_by_label("Payee").fill("Margaret Thornton")
    page.locator("#id_payment-final").check()
    page.get_by_role("button", name="Make payment").click()
    expect(page.locator(".ws-badge")).to_have_text("Closed")
    expect(page.locator("#ws-paid")).to_contain_text("4,200.00")
    expect(page.locator("#ws-reserve")).to_contain_text("0.00")
    for text in ("Processing", "0.00 → £6,000.00: Vehicle valuation", "Asked for approval",
                 "Approved the claim approval", "Final payment of £4,200.00",
                 "Approved → Closed", "Sam Senior"):
        expect(timeline).to_contain_text(text)
    assert page.locator("form#payment").count() == 0
    _shot(page, "04-claim-closed")
    # Sam still has the claim open: it followed live, without a reload.
    expect(senior.locator(".ws-badge")).to_have_text("Closed")
    expect(senior.locator("#timeline")).to_contain_text("Final payment of £4,200.00")
    # ...and the broker's page followed: status and money, live.
    expect(portal.locator("[data-live-claim]").first).to_have_text("Closed")
    expect(portal.locator("#claim-money")).to_contain_text("4,200.00")
    assert "Police report number requested" not in portal.content()
    _shot(portal, "06-broker-claim-live")

    # The audit list names people and objects.
    page.goto(f"{server.url}/admin/compliance/auditentry/")
    expect(page.locator("#result_list")).to_contain_text("Hana Handler")
    _shot(page, "05-audit-list")
    assert problems == []
