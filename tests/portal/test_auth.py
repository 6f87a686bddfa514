import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

LOGIN = "/portal/login/"


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def _csrf(client) -> str:
    response = client.get(LOGIN)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value


def _login(client, email, password, **extra):
    return client.post(LOGIN, {"email": email, "password": password,
                               "csrfmiddlewaretoken": _csrf(client), **extra})


def test_root_redirects_to_portal(client):
    assert client.get("/").headers["Location"] == "/portal/"


def test_login_page_has_labelled_fields_and_csrf(browser, db):
    body = browser.get(LOGIN).content.decode()
    assert '<label for="id_email">' in body and '<label for="id_password">' in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_broker_signs_in_and_lands_on_dashboard(browser, broker):
    response = _login(browser, broker.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:dashboard")
    assert browser.get("/portal/").status_code == 200


def test_sign_in_follows_a_local_next_only(browser, broker):
    response = _login(browser, broker.email, PASSWORD, next="/portal/claims/")
    assert response.headers["Location"] == "/portal/claims/"
    browser.logout()
    response = _login(browser, broker.email, PASSWORD, next="https://evil.test/")
    assert response.headers["Location"] == reverse("portal:dashboard")


def test_wrong_password_is_401_with_a_message(browser, broker):
    response = _login(browser, broker.email, "Wrong!Passw0rd1")
    assert response.status_code == 401
    assert "Invalid email or password." in response.content.decode()
    assert browser.get("/portal/").status_code == 302


def test_malformed_login_is_400_beside_the_field(browser, db):
    response = _login(browser, "not-an-email", "x")
    assert response.status_code == 400
    assert 'id="id_email_error_1"' in response.content.decode()


def test_lockout_is_shared_with_the_api_and_refuses_the_right_password(
        browser, broker, anon_client, settings):
    for _ in range(settings.LOCKOUT_EMAIL_LIMIT):
        anon_client.post("/api/auth/login", {"email": broker.email, "password": "Wrong!Pass1"})
    response = _login(browser, broker.email, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_portal_failures_lock_the_api_too(browser, broker, anon_client, settings):
    for _ in range(settings.LOCKOUT_EMAIL_LIMIT):
        _login(browser, broker.email, "Wrong!Passw0rd1")
    api = anon_client.post("/api/auth/login", {"email": broker.email, "password": PASSWORD})
    assert api.status_code == 429


def test_integrator_cannot_sign_in_to_the_portal(browser, integrator):
    response = _login(browser, integrator.email, PASSWORD)
    assert response.status_code == 403
    assert "Service accounts use the API" in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_integrator_session_gets_403_on_every_page(client, integrator):
    client.force_login(integrator)
    for url in ("/portal/", "/portal/customers/", "/portal/claims/"):
        assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get("/portal/customers/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/login/?next=/portal/customers/"


def test_anonymous_htmx_request_gets_401_and_a_redirect_header(client, db):
    response = client.get("/portal/customers/?q=a", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/portal/login/"


def test_logout_needs_post_and_csrf(browser, broker):
    _login(browser, broker.email, PASSWORD)
    assert browser.get("/portal/logout/").status_code == 405
    assert browser.post("/portal/logout/").status_code == 403  # no CSRF token
    token = browser.cookies["csrftoken"].value
    response = browser.post("/portal/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert browser.get("/portal/").status_code == 302


def test_session_cookie_is_http_only(browser, broker):
    _login(browser, broker.email, PASSWORD)
    assert browser.cookies["sessionid"]["httponly"] is True
