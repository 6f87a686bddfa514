"""A broker switches claim emails off in a real browser; the emails themselves are
rendered in the same browser so their look is checked too."""

import re

import pytest
from playwright.sync_api import expect

from events import services
from events.models import EmailNotification, OutboxEvent
from tests.browser.test_portal_flow import _shot, _watch_console, people, pytestmark  # noqa: F401
from tests.factories import PASSWORD, ClaimFactory


@pytest.fixture
def approved_email(people):  # noqa: F811
    """The claim decision email's subject and HTML part, made before the browser starts
    (the ORM is not used while Playwright's loop runs)."""
    broker = people["broker"]
    claim = ClaimFactory(policy__customer__broker=broker.agency, status="approved",
                         processed_date="2026-01-02T00:00:00Z")
    event = OutboxEvent.objects.create(
        type="claim.status_changed", resource_type="claim", resource_id=claim.pk,
        data={"claim_number": claim.claim_number, "claim_type": "accident",
              "claim_amount": "1500.00", "incident_date": "2026-01-01", "status": "approved"})
    message = services.email_render(EmailNotification(event=event, recipient=broker))
    return claim.claim_number, message.alternatives[0][0]


def test_broker_turns_claim_emails_off_and_sees_the_email_look(
        server, people, approved_email, browser):  # noqa: F811
    broker = people["broker"]
    claim_number, html = approved_email
    problems: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _watch_console(page, problems)
    page.goto(f"{server.url}/portal/login/")
    page.get_by_label("Email").fill(broker.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Email settings").click()
    expect(page).to_have_url(re.compile(r"/portal/settings/notifications/$"))
    box = page.get_by_label(re.compile("Email me when a claim of my agency"))
    expect(box).to_be_checked()
    _shot(page, "20-email-settings")
    box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Email settings saved.")).to_be_visible()
    expect(page.get_by_label(re.compile("Email me when a claim"))).not_to_be_checked()
    assert problems == []

    # The HTML part on a blank page of its own: the portal CSP (no inline styles)
    # is not a mail client's.
    page = browser.new_context(viewport={"width": 760, "height": 640}).new_page()
    page.set_content(html)
    expect(page.get_by_text(f"Claim {claim_number} has been")).to_be_visible()
    header = page.get_by_text("Broker portal · Insurance back-office")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 78, 140)"
    _shot(page, "21-claim-approved-email")
