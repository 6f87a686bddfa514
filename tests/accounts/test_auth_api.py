import pytest

from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, email, password, **extra):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json",
                       **extra)


def test_login_returns_token_pair(anon_client, broker):
    r = login(anon_client, broker.email, PASSWORD)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.get("/api/customers").status_code == 200


def test_login_email_is_case_insensitive(anon_client, broker):
    assert login(anon_client, broker.email.upper(), PASSWORD).status_code == 200


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/login/"])
def test_wrong_password_is_401_with_challenge(anon_client, broker, path):
    r = anon_client.post(path, {"email": broker.email, "password": "Wrong!Passw0rd"},
                         format="json")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_email_is_401(anon_client, db):
    assert login(anon_client, "nobody@example.test", PASSWORD).status_code == 401


def test_inactive_user_cannot_log_in(anon_client, broker):
    broker.is_active = False
    broker.save()
    assert login(anon_client, broker.email, PASSWORD).status_code == 401


def test_missing_fields_is_400_naming_them(anon_client, db):
    r = anon_client.post("/api/auth/login", {}, format="json")
    assert r.status_code == 400
    assert {"email", "password"} <= set(r.json())


def test_refresh_rotates_and_old_token_dies(anon_client, broker):
    first = login(anon_client, broker.email, PASSWORD).json()
    r = anon_client.post("/api/auth/refresh", {"refresh_token": first["refresh_token"]},
                         format="json")
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token_type"] == "bearer"
    again = anon_client.post("/api/auth/refresh/", {"refresh_token": first["refresh_token"]},
                             format="json")
    assert again.status_code == 401
    assert "WWW-Authenticate" in again.headers


def test_refresh_with_garbage_is_401(anon_client, db):
    r = anon_client.post("/api/auth/refresh", {"refresh_token": "nope"}, format="json")
    assert r.status_code == 401


def test_refresh_with_access_token_is_401(anon_client, broker):
    pair = login(anon_client, broker.email, PASSWORD).json()
    r = anon_client.post("/api/auth/refresh", {"refresh_token": pair["access_token"]},
                         format="json")
    assert r.status_code == 401


def test_logout_revokes_refresh_token(anon_client, broker):
    pair = login(anon_client, broker.email, PASSWORD).json()
    r = anon_client.post("/api/auth/logout", {"refresh_token": pair["refresh_token"]},
                         format="json")
    assert r.status_code == 204
    r = anon_client.post("/api/auth/refresh", {"refresh_token": pair["refresh_token"]},
                         format="json")
    assert r.status_code == 401
    r = anon_client.post("/api/auth/logout/", {"refresh_token": pair["refresh_token"]},
                         format="json")
    assert r.status_code == 401


def test_logout_without_token_is_400(anon_client, db):
    assert anon_client.post("/api/auth/logout", {}, format="json").status_code == 400


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic Zm9vOmJhcg=="])
def test_api_without_good_credentials_is_401(header, db):
    client = client_for(None)
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    for path in ("/api/customers", "/api/policies", "/api/claims", "/api/policies/summary"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_refresh_for_deactivated_user_is_401(anon_client, broker):
    pair = login(anon_client, broker.email, PASSWORD).json()
    broker.is_active = False
    broker.save()
    r = anon_client.post("/api/auth/refresh", {"refresh_token": pair["refresh_token"]},
                         format="json")
    assert r.status_code == 401


def test_tokens_of_other_users_do_not_mix(anon_client, broker, other_broker):
    a = login(anon_client, broker.email, PASSWORD).json()
    b = login(anon_client, other_broker.email, PASSWORD).json()
    assert a["access_token"] != b["access_token"]


def test_integrator_can_log_in(anon_client):
    user = UserFactory(integrator=True)
    assert login(anon_client, user.email, PASSWORD).status_code == 200
