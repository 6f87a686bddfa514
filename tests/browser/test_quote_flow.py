"""A broker quotes in a real browser: the premium follows the typing, bind is one click."""

import re

from tests.browser.test_portal_flow import (  # noqa: F401 (pytestmark applies here too)
    TIMEOUT_MS,
    _shot,
    _watch_console,
    pytestmark,
)
from tests.factories import PASSWORD, AgencyFactory, CustomerFactory, UserFactory
from tests.underwriting.conftest import ensure_default_plans


def test_quote_live_premium_then_bind_then_endorse(server, transactional_db, browser):
    from playwright.sync_api import expect

    ensure_default_plans()
    expect.set_options(timeout=TIMEOUT_MS)
    agency = AgencyFactory(name="Harbour Brokers")
    broker = UserFactory(agency=agency, email="broker@harbour.test")
    customer = CustomerFactory(broker=agency, first_name="Margaret", last_name="Thornton")
    problems: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _watch_console(page, problems)
    page.goto(f"{server.url}/portal/login/")
    page.get_by_label("Email").fill(broker.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.goto(f"{server.url}/portal/customers/{customer.pk}/")
    page.get_by_role("link", name="New quote").click()
    expect(page.get_by_role("heading", name=re.compile("New quote"))).to_be_visible()
    # Only the chosen product's answers show.
    expect(page.get_by_label("Vehicle value")).to_be_visible()
    expect(page.get_by_label("Rebuild value")).to_be_hidden()
    page.get_by_label("Coverage amount").fill("20000")
    page.get_by_label("Vehicle value").fill("25000")
    page.get_by_label("Annual mileage").fill("8000")
    page.get_by_label("Claims in the last 5 years").fill("1")
    expect(page.locator(".premium-total")).to_have_text("728.00")
    expect(page.locator("tr[data-code='factor.prior_claims']")).to_contain_text("125.00")
    page.get_by_label("Claims in the last 5 years").fill("2")  # no reload: the panel follows
    expect(page.locator(".premium-total")).to_have_text("868.00")
    _shot(page, "quote-live-premium")
    page.get_by_label("Policy type").select_option("home")
    expect(page.get_by_label("Rebuild value")).to_be_visible()
    expect(page.locator("#premium")).to_contain_text("Rebuild value")
    page.get_by_label("Policy type").select_option("auto")
    expect(page.locator(".premium-total")).to_have_text("868.00")
    page.get_by_role("button", name="Save quote").click()
    page.get_by_role("button", name=re.compile("Bind for 868.00")).click()
    expect(page.get_by_role("heading", name=re.compile("Policy POL-"))).to_be_visible()
    _shot(page, "quote-bound-policy")
    page.get_by_role("link", name="Change this policy").click()
    page.get_by_label("Coverage amount").fill("30000")
    page.get_by_label("Reason").fill("Higher value car")
    page.get_by_role("button", name="Show the premium change").click()
    expect(page.locator("[data-delta]")).to_be_visible()
    _shot(page, "endorsement-preview")
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_text("Higher value car")).to_be_visible()
    _shot(page, "endorsed-policy")
    assert problems == []
