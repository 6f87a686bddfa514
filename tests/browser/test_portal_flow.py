"""A broker's day in a real browser (Debian's Chromium driven by Playwright),
against a real ASGI server on PostgreSQL and Redis."""

import datetime
import io
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from tests.browser.servers import api
from tests.conftest import requires_postgres, requires_redis
from tests.factories import PASSWORD, AgencyFactory, CustomerFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    requires_postgres,
    requires_redis,
    # CI must run them: there a missing Chromium fails the test instead.
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                       reason=f"needs Chromium at {CHROMIUM}"),
]


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def people(transactional_db):
    agency = AgencyFactory(name="Harbour Brokers")
    broker = UserFactory(agency=agency, email="broker@harbour.test")
    staff = UserFactory(staff=True, email="handler@insurer.test")
    CustomerFactory(broker=agency, first_name="Margaret", last_name="Thornton",
                    email="m.thornton@example.test")
    CustomerFactory(broker=agency, first_name="Zoe", last_name="Quinn",
                    email="zoe.quinn@example.test")
    CustomerFactory(first_name="Tom", last_name="Thornbury", email="tom@elsewhere.test")
    return {"broker": broker, "staff": staff}


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# A form sent back with its errors is answered 400 on purpose; Chrome logs that too.
FORM_ERROR_STATUS = "the server responded with a status of 400 (Bad Request)"


def _watch_console(page, problems: list) -> None:
    def on_console(msg):
        if msg.type == "error" and FORM_ERROR_STATUS not in msg.text:
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))


def test_broker_day_with_live_claim_status(server, people, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    today = timezone.localdate()
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _watch_console(page, problems)

    # Sign in.
    page.goto(f"{server.url}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/login/\?next=/portal/$"))
    _shot(page, "01-login")
    page.get_by_label("Email").fill(people["broker"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    _shot(page, "02-dashboard")

    # Find a customer by typing part of the name: results update as one types.
    page.get_by_role("link", name="Customers").click()
    results = page.locator("#customer-results")
    expect(results).to_contain_text("Zoe Quinn")
    page.get_by_label("Search customers by name or email").press_sequentially(
        "thorn", delay=60)
    expect(results).not_to_contain_text("Zoe Quinn")
    expect(results).to_contain_text("Margaret Thornton")
    expect(results).not_to_contain_text("Thornbury")  # another agency's customer
    expect(page).to_have_url(re.compile(r"\?q=thorn$"))
    _shot(page, "03-customer-search")

    # Add a customer: consent is required and the error sits beside the box.
    page.get_by_role("link", name="Add a customer").click()
    page.get_by_label("First name").fill("Priya")
    page.get_by_label("Last name").fill("Raman")
    page.get_by_label("Email").fill("priya.raman@example.test")
    page.get_by_label("Phone").fill("+447700900123")
    page.get_by_role("button", name="Add customer").click()
    expect(page.locator("#id_gdpr_consent_error_1")).to_contain_text("consent is required")
    _shot(page, "04-customer-form-error")
    page.get_by_label(re.compile("consents to the processing")).check()
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Priya Raman")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Customer Priya Raman added.")

    # Write a policy: a premium under the minimum is refused beside the premium.
    page.get_by_role("link", name="Write a new policy").click()
    page.get_by_label("Policy type").select_option("home")
    page.get_by_label("Premium amount").fill("50")
    page.get_by_label("Coverage amount").fill("250000")
    page.get_by_label("Start date").fill((today - datetime.timedelta(days=10)).isoformat())
    page.get_by_label("End date").fill((today + datetime.timedelta(days=355)).isoformat())
    page.get_by_role("button", name="Write policy").click()
    expect(page.locator("#id_premium_amount_error_1")).to_contain_text("at least £100.00")
    page.get_by_label("Premium amount").fill("640.00")
    page.get_by_role("button", name="Write policy").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Policy POL-"))).to_be_visible()
    _shot(page, "05-policy")

    # Report a claim (first notice of loss).
    page.get_by_role("link", name="Report a claim").click()
    page.get_by_label("Type of claim").select_option("flood")
    page.get_by_label("Date of the incident").fill((today - datetime.timedelta(days=2)).isoformat())
    page.get_by_label("Amount claimed").fill("4200.00")
    page.get_by_label("What happened").fill("Kitchen flooded after a pipe burst.")
    page.get_by_role("button", name="Report claim").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Claim CLM-"))).to_be_visible()
    claim_id = re.search(r"/portal/claims/([0-9a-f-]{36})/", page.url).group(1)
    badge = page.locator(f'.status-line [data-live-claim="{claim_id}"]')
    expect(badge).to_have_text("Pending")

    # Upload a photo from the claim page.
    page.get_by_label("Kind of document").select_option("photo")
    page.get_by_label("File").set_input_files(
        {"name": "kitchen.jpg", "mimeType": "image/jpeg", "buffer": _photo()})
    page.get_by_role("button", name="Upload document").click()
    expect(page.locator("#claim-documents")).to_contain_text("kitchen.jpg")
    expect(page.locator("#claim-documents")).to_contain_text("Photo")

    # The claims list, open in a second tab, watches the same claim.
    listing = context.new_page()
    _watch_console(listing, problems)
    listing.goto(f"{server.url}/portal/claims/")
    list_badge = listing.locator(f'#claim-results [data-live-claim="{claim_id}"]')
    expect(list_badge).to_have_text("Pending")

    # Both pages hold a subscribed socket before staff act.
    expect(page.locator("body")).to_have_attribute("data-live-subscribed", "1")
    expect(listing.locator("body")).to_have_attribute("data-live-subscribed", "1")
    _shot(page, "06-claim-pending")

    # Staff move the claim through the API; the pages change without a reload.
    code, tokens = api(server, "POST", "/api/auth/login",
                       {"email": people["staff"].email, "password": PASSWORD})
    assert code == 200, tokens
    token = tokens["access_token"]
    code, body = api(server, "PATCH", f"/api/claims/{claim_id}", {"status": "processing"},
                     token=token)
    assert code == 200, body
    expect(badge).to_have_text("Processing")
    expect(list_badge).to_have_text("Processing")
    code, body = api(server, "PATCH", f"/api/claims/{claim_id}", {"status": "approved"},
                     token=token)
    assert code == 200, body
    expect(badge).to_have_text("Approved")
    expect(list_badge).to_have_text("Approved")
    expect(page.locator("#claim-history")).to_contain_text("Processing → Approved")
    expect(page.locator("#claim-details")).to_contain_text("Decided")
    expect(page.locator("#live-announcer")).to_contain_text("is now approved")
    _shot(page, "07-claim-approved")
    _shot(listing, "08-claims-list")

    # Tidy on a phone: nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                storage_state=context.storage_state())
    small = phone.new_page()
    _watch_console(small, problems)
    for name, path in (("09-phone-claims", "/portal/claims/"),
                       ("10-phone-claim", f"/portal/claims/{claim_id}/"),
                       ("11-phone-customers", "/portal/customers/")):
        small.goto(server.url + path)
        assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        _shot(small, name)
    phone.close()
    context.close()

    # No script errors and no Content-Security-Policy violations on any page.
    assert problems == []


def test_signing_out_closes_the_portal(server, people, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    page = browser.new_page()
    page.goto(f"{server.url}/portal/login/")
    page.get_by_label("Email").fill(people["broker"].email)
    page.get_by_label("Password").fill("Wrong!Passw0rd9")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid email or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/portal/login/$"))
    page.goto(f"{server.url}/portal/claims/")
    expect(page).to_have_url(re.compile(r"/portal/login/\?next=/portal/claims/$"))


def test_api_docs_render_without_outside_scripts(server, browser):
    """Integrators' interactive docs: Swagger UI served by the app itself, under CSP."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    outside: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _watch_console(page, problems)
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(server.url) and not request.url.startswith("data:")
            else None)
    page.goto(f"{server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Insurance back-office API")
    expect(page.locator(".opblock-summary-path", has_text="/api/claims").first).to_be_visible()
    _shot(page, "12-api-docs")
    assert outside == []
    assert problems == []
