"""Headers and markup every portal page must have: CSP without inline script,
no framing, CSRF on every form, a label for every input."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.factories import ClaimFactory


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.styles = 0
        self.inputs: list[dict] = []
        self.labels: set[str] = set()
        self.forms: list[dict] = []
        self._form = None
        self.buttons: list[str] = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        self.handlers += [k for k in a if k.startswith(("on", "hx-on"))]
        if "style" in a:
            self.styles += 1
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(a)
        if tag == "input" and a.get("name") == "csrfmiddlewaretoken" and self._form is not None:
            self._form["csrf"] = True
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "csrf": False}
            self.forms.append(self._form)
        if tag == "button":
            self._button = ""

    def handle_data(self, data):
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag == "button" and self._button is not None:
            self.buttons.append(self._button.strip())
            self._button = None


def _pages(claim):
    policy = claim.policy
    customer = policy.customer
    return [
        "/portal/", "/portal/customers/", "/portal/customers/new/",
        f"/portal/customers/{customer.pk}/", f"/portal/customers/{customer.pk}/policies/new/",
        f"/portal/policies/{policy.pk}/", f"/portal/policies/{policy.pk}/cancel/",
        f"/portal/policies/{policy.pk}/claims/new/", "/portal/claims/",
        f"/portal/claims/{claim.pk}/",
    ]


@pytest.fixture
def every_page(portal, claim):
    return [(url, portal.get(url)) for url in _pages(claim)]


def test_login_page_headers(db):
    response = Client().get("/portal/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_page_is_safe_and_accessible(every_page):
    for url, response in every_page:
        assert response.status_code == 200, url
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert "no-store" in response.headers["Cache-Control"], url
        page = _Page()
        page.feed(response.content.decode())
        assert page.inline_scripts == 0, url
        assert page.handlers == [], url
        assert page.styles == 0, url
        for field in page.inputs:
            assert field.get("id") in page.labels, (url, field)
        for form in page.forms:
            if form["method"] == "post":
                assert form["csrf"], url
        for text in page.buttons:
            assert text and text.lower() not in ("submit", "ok", "go"), (url, text)


def test_pages_load_htmx_and_the_live_script_from_static(every_page):
    body = every_page[0][1].content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2(\.min)?\.js"', body)
    assert '<script src="/static/js/portal.js" defer>' in body
    assert '"includeIndicatorStyles":false' in body


def test_post_without_csrf_token_is_refused(broker, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(broker)
    response = client.post(f"/portal/customers/{customer.pk}/policies/new/", {})
    assert response.status_code == 403
    response = client.post("/portal/customers/new/", {})
    assert response.status_code == 403


def test_upload_without_csrf_token_is_refused(broker, claim):
    client = Client(enforce_csrf_checks=True)
    client.force_login(broker)
    response = client.post(f"/portal/claims/{claim.pk}/documents/", {"document_type": "photo"})
    assert response.status_code == 403
    assert not claim.documents.exists()


def test_another_agencys_ids_are_404(portal, foreign_claim):
    policy = foreign_claim.policy
    customer = policy.customer
    for url in [u for u in _pages(foreign_claim) if str(customer.pk) in u or
                str(policy.pk) in u or str(foreign_claim.pk) in u]:
        assert portal.get(url).status_code == 404, url
    for url in (f"/portal/customers/{customer.pk}/policies/new/",
                f"/portal/policies/{policy.pk}/cancel/",
                f"/portal/policies/{policy.pk}/claims/new/",
                f"/portal/claims/{foreign_claim.pk}/documents/"):
        assert portal.post(url, {}).status_code == 404, url


def test_staff_may_view_but_not_write(staff_portal, claim):
    for url in _pages(claim):
        assert staff_portal.get(url).status_code == 200, url
    customer = claim.policy.customer
    assert staff_portal.post("/portal/customers/new/", {}).status_code == 403
    assert staff_portal.post(f"/portal/customers/{customer.pk}/policies/new/",
                             {}).status_code == 403
    assert staff_portal.post(f"/portal/claims/{claim.pk}/documents/", {}).status_code == 403


def test_unknown_page_is_a_404_page(portal, db):
    response = portal.get(f"/portal/claims/{ClaimFactory.build().pk}/")
    assert response.status_code == 404
