"""What the first brokers and staff tripped on, seen in a real browser at a
desktop width (1280 px) and a phone's (390 px): every portal page and the key
admin pages are photographed at both (test-artifacts/screenshots/)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.models import ClaimStatus
from tests.browser.test_portal_flow import TIMEOUT_MS, _shot, _watch_console
from tests.browser.test_portal_flow import pytestmark as browser_marks
from tests.factories import (
    PASSWORD,
    AgencyFactory,
    ClaimFactory,
    CustomerFactory,
    PolicyFactory,
    UserFactory,
)

pytestmark = browser_marks

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def book(transactional_db):
    agency = AgencyFactory(name="Harbour Brokers")
    broker = UserFactory(agency=agency, email="broker@harbour-brokers.test")
    staff = UserFactory(staff=True, email="handler@insurer.test", is_superuser=True)
    customer = CustomerFactory(broker=agency, first_name="Margaret", last_name="Thornton-Ellis",
                               email="margaret.thornton-ellis@example.test")
    today = timezone.localdate()
    policy = PolicyFactory(customer=customer, premium_amount=Decimal("1998.48"),
                           coverage_amount=Decimal("250000.00"),
                           start_date=today - datetime.timedelta(days=40))
    PolicyFactory(customer=customer, policy_type="home", premium_amount=Decimal("640.00"))
    claims = [
        ClaimFactory(policy=policy, claim_amount=Decimal("12345.67"), claim_type="damage",
                     description="Dented bumper in the supermarket car park."),
        ClaimFactory(policy=policy, claim_amount=Decimal("980.00"), status=ClaimStatus.DENIED,
                     processed_date=timezone.now()),
        ClaimFactory(policy=policy, claim_amount=Decimal("4200.00"),
                     status=ClaimStatus.APPROVED, processed_date=timezone.now()),
    ]
    return {"broker": broker, "staff": staff, "customer": customer, "policy": policy,
            "claims": claims}


def _sign_in(page, url, email):
    page.goto(f"{url}/portal/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/$"))


def _within_viewport(page, selector) -> list[str]:
    """Cells matched by the selector that are not wholly on screen horizontally."""
    return page.evaluate("""(selector) => {
        const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll(selector)]
          .filter(el => { const r = el.getBoundingClientRect();
                          return r.width === 0 || r.left < 0 || r.right > width; })
          .map(el => el.textContent.trim());
    }""", selector)


def test_tables_header_amounts_on_a_phone_and_a_desktop(server, book, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    pages = {
        "dashboard": "/portal/",
        "customers": "/portal/customers/",
        "customer": f"/portal/customers/{book['customer'].pk}/",
        "customer-new": "/portal/customers/new/",
        "policy": f"/portal/policies/{book['policy'].pk}/",
        "policy-new": f"/portal/customers/{book['customer'].pk}/policies/new/",
        "policy-cancel": f"/portal/policies/{book['policy'].pk}/cancel/",
        "claims": "/portal/claims/",
        "claim": f"/portal/claims/{book['claims'][0].pk}/",
        "claim-new": f"/portal/policies/{book['policy'].pk}/claims/new/",
    }
    for label, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, is_mobile=label == "phone")
        page = context.new_page()
        _watch_console(page, problems)
        page.goto(f"{server.url}/portal/login/")
        _shot(page, f"fr-{label}-login")
        _sign_in(page, server.url, book["broker"].email)
        for name, path in pages.items():
            page.goto(server.url + path)
            assert page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth"), (label, path)
            _shot(page, f"fr-{label}-{name}")
        # Amounts: with the currency and separators, quantized; never a raw decimal.
        page.goto(server.url + "/portal/")
        expect(page.locator("main")).to_contain_text("£1,998.48")
        assert "1998.48000" not in page.content()
        page.goto(server.url + "/portal/claims/")
        for status, amount in (("Pending", "£12,345.67"), ("Denied", "£980.00"),
                               ("Approved", "£4,200.00")):
            expect(page.locator("#claim-results")).to_contain_text(amount)
            expect(page.locator("#claim-results .badge", has_text=status)).to_be_visible()
        if label == "phone":
            # Status and amount of every row are on screen, not off to the right.
            assert page.locator("#claim-results td[data-label='Amount']").count() == 3
            assert _within_viewport(page, "#claim-results td[data-label='Amount']") == []
            assert _within_viewport(page, "#claim-results td[data-label='Status'] .badge") == []
            for path in (pages["customer"], pages["policy"]):
                page.goto(server.url + path)
                assert _within_viewport(page, "td[data-label='Amount'], "
                                              "td[data-label='Premium'], "
                                              "td[data-label='Status'] .badge") == []
            # The header is compact and "Sign out" sits on one line.
            header = page.locator(".site-header").bounding_box()
            assert header["height"] <= 96, header
            sign_out = page.get_by_role("button", name="Sign out")
            box = sign_out.bounding_box()
            line = sign_out.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
            assert box["height"] < 2 * line, box
            assert box["x"] + box["width"] <= 390
        context.close()
    assert problems == []


def test_forms_start_unchosen_and_errors_take_focus_with_readable_dates(server, book, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    _watch_console(page, problems)
    _sign_in(page, server.url, book["broker"].email)
    policy = book["policy"]

    # The claim type is not chosen for the broker; sending it unchosen says so.
    page.goto(f"{server.url}/portal/policies/{policy.pk}/claims/new/")
    expect(page.get_by_label("Type of claim")).to_have_value("")
    page.get_by_label("Date of the incident").fill("2001-01-01")
    page.get_by_label("Amount claimed").fill("100")
    page.get_by_role("button", name="Report claim").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Type of claim: Choose the type of claim.")
    _shot(page, "fr-desktop-claim-errors")
    # Dates in the message read as on the page.
    page.get_by_label("Type of claim").select_option("damage")
    page.get_by_role("button", name="Report claim").click()
    start = policy.start_date
    expect(summary).to_contain_text(f"({start.day} {start:%b %Y} to")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("Date of the incident")).click()
    expect(page.get_by_label("Date of the incident")).to_be_focused()

    # The policy type starts unchosen too.
    page.goto(f"{server.url}/portal/customers/{book['customer'].pk}/policies/new/")
    expect(page.get_by_label("Policy type")).to_have_value("")
    page.get_by_role("button", name="Write policy").click()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Policy type: Choose the type of policy.")
    _shot(page, "fr-desktop-policy-errors")

    # A phone number as people type it is taken and shown in E.164.
    page.goto(f"{server.url}/portal/customers/new/")
    page.get_by_label("First name").fill("Priya")
    page.get_by_label("Last name").fill("Raman")
    page.get_by_label("Email").fill("priya.raman@example.test")
    page.get_by_label("Phone").fill("07700 90012")
    page.get_by_label(re.compile("consents to the processing")).check()
    page.get_by_role("button", name="Add customer").click()
    expect(summary).to_contain_text("Phone: This phone number has too few or too many digits.")
    _shot(page, "fr-desktop-customer-errors")
    page.get_by_label("Phone").fill("07700 900123")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Priya Raman")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("+447700900123")

    # A refused upload: the address bar shows the claim, not the upload URL.
    claim = book["claims"][0]
    page.goto(f"{server.url}/portal/claims/{claim.pk}/")
    expect(page.get_by_label("Kind of document")).to_have_value("")
    page.get_by_label("Kind of document").select_option("invoice")
    page.get_by_label("File").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some text" * 20})
    page.get_by_role("button", name="Upload document").click()
    expect(page).to_have_url(re.compile(rf"/portal/claims/{claim.pk}/#errors$"))
    expect(summary).to_be_focused()
    expect(page.locator("#id_file_error_1")).to_be_visible()
    expect(page.get_by_label("Kind of document")).to_have_value("invoice")
    _shot(page, "fr-desktop-upload-refused")
    page.reload()
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    context.close()
    assert problems == []


def test_admin_lists_show_money_and_plural_messages(server, book, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for label, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{server.url}/admin/login/")
        page.locator("#id_username").fill(book["staff"].email)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/$"))
        _shot(page, f"fr-{label}-admin-index")
        page.goto(f"{server.url}/admin/claims/claim/")
        expect(page.locator("#result_list")).to_contain_text("£12,345.67")
        _shot(page, f"fr-{label}-admin-claims")
        page.goto(f"{server.url}/admin/policies/policy/")
        expect(page.locator("#result_list")).to_contain_text("£1,998.48")
        expect(page.locator("#result_list")).to_contain_text("£250,000.00")
        _shot(page, f"fr-{label}-admin-policies")
        page.goto(f"{server.url}/admin/customers/customer/{book['customer'].pk}/change/")
        _shot(page, f"fr-{label}-admin-customer")
        if label == "desktop":
            page.goto(f"{server.url}/admin/claims/claim/")
            page.locator(f"input[name=_selected_action][value='{book['claims'][0].pk}']").check()
            page.locator("select[name=action]").select_option("start_processing")
            page.locator("button[name=index]").click()
            expect(page.locator(".messagelist")).to_contain_text("1 claim now processing.")
            _shot(page, f"fr-{label}-admin-claims-action")
        context.close()
