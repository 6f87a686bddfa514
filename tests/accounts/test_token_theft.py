"""Refresh-token theft detection: reusing a rotated refresh token revokes the whole
login (its token family) — refresh and access tokens alike — and is audited."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.models import TokenFamily
from accounts.tokens import FAMILY_CLAIM
from compliance.models import AuditEntry
from tests.conftest import requires_postgres
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(user):
    r = APIClient().post("/api/auth/login", {"email": user.email, "password": PASSWORD},
                         format="json")
    assert r.status_code == 200
    return r.json()


def _refresh(token, **extra):
    return APIClient().post("/api/auth/refresh", {"refresh_token": token}, format="json",
                            **extra)


def _api_status(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/customers").status_code


def test_a_rotation_chain_works_one_step_at_a_time(broker):
    pair = _login(broker)
    for _ in range(3):
        r = _refresh(pair["refresh_token"])
        assert r.status_code == 200
        pair = r.json()
        assert _api_status(pair["access_token"]) == 200
    assert TokenFamily.objects.get().revoked_at is None


def test_owner_first_then_thief_replays_the_old_token(broker):
    """The issue's race: owner and thief hold R1; the owner rotates; the thief's
    replay of R1 is refused and ends every token of the login, the owner's too."""
    first = _login(broker)
    owner = _refresh(first["refresh_token"]).json()
    assert _api_status(owner["access_token"]) == 200

    thief = _refresh(first["refresh_token"], REMOTE_ADDR="203.0.113.66")
    assert thief.status_code == 401
    assert thief.headers["WWW-Authenticate"].startswith("Bearer")
    assert "already used" in thief.json()["detail"]

    assert _refresh(owner["refresh_token"]).status_code == 401
    assert _api_status(owner["access_token"]) == 401
    assert _api_status(first["access_token"]) == 401
    family = TokenFamily.objects.get()
    assert family.revoked_reason == TokenFamily.Reason.REUSE and family.revoked_at

    entry = AuditEntry.objects.get(action=AuditEntry.Action.TOKEN_REUSE)
    assert entry.object_pk == str(broker.pk)
    assert entry.remote_addr == "203.0.113.66"
    assert entry.additional_data["token_family"] == str(family.pk)
    assert entry.action_name == "token_reuse"


def test_thief_first_then_owner_replays_the_old_token(broker):
    first = _login(broker)
    thief = _refresh(first["refresh_token"]).json()
    assert _api_status(thief["access_token"]) == 200
    assert _refresh(first["refresh_token"]).status_code == 401  # the owner comes back
    assert _refresh(thief["refresh_token"]).status_code == 401
    assert _api_status(thief["access_token"]) == 401
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TOKEN_REUSE).count() == 1


def test_only_that_login_is_revoked(broker):
    stolen = _login(broker)
    other_device = _login(broker)
    _refresh(stolen["refresh_token"])
    _refresh(stolen["refresh_token"])
    assert _api_status(other_device["access_token"]) == 200
    assert _refresh(other_device["refresh_token"]).status_code == 200


def test_access_and_refresh_tokens_carry_the_family(broker):
    from rest_framework_simplejwt.tokens import AccessToken

    pair = _login(broker)
    family = TokenFamily.objects.get()
    assert RefreshToken(pair["refresh_token"])[FAMILY_CLAIM] == str(family.pk)
    assert AccessToken(pair["access_token"])[FAMILY_CLAIM] == str(family.pk)
    assert family.current_jti == RefreshToken(pair["refresh_token"])["jti"]


def test_logout_ends_the_login_access_token_included(broker):
    pair = _login(broker)
    r = APIClient().post("/api/auth/logout", {"refresh_token": pair["refresh_token"]},
                         format="json")
    assert r.status_code == 204
    assert _refresh(pair["refresh_token"]).status_code == 401
    assert _api_status(pair["access_token"]) == 401
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.Reason.LOGOUT
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.TOKEN_REUSE).exists()


def test_a_logged_out_access_token_stays_refused_without_the_cache(broker, settings):
    """The revocation is read from the database with the user, so a cache that is
    unreachable (or forgot everything) does not bring the login back."""
    pair = _login(broker)
    assert APIClient().post("/api/auth/logout", {"refresh_token": pair["refresh_token"]},
                            format="json").status_code == 204
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    r = client.get("/api/customers")
    assert r.status_code == 401
    assert r.json()["code"] == "token_revoked"


def test_another_users_revoked_family_does_not_revoke_this_token(broker, other_broker):
    pair = _login(broker)
    theirs = _login(other_broker)
    assert APIClient().post("/api/auth/logout", {"refresh_token": theirs["refresh_token"]},
                            format="json").status_code == 204
    assert _api_status(pair["access_token"]) == 200
    assert _api_status(theirs["access_token"]) == 401


def test_a_token_from_before_families_still_refreshes_into_one(broker):
    legacy = RefreshToken.for_user(broker)
    r = _refresh(str(legacy))
    assert r.status_code == 200
    assert RefreshToken(r.json()["refresh_token"])[FAMILY_CLAIM] == str(
        TokenFamily.objects.get().pk)
    assert _refresh(str(legacy)).status_code == 401


# --- the service, directly ---------------------------------------------------------------


def test_service_reuse_revokes_blacklists_and_announces(broker, django_capture_on_commit_callbacks):
    from accounts.signals import refresh_token_reused
    from accounts.tokens import family_revoked

    heard = []

    def listener(sender, **kwargs):
        heard.append(kwargs)

    refresh_token_reused.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = services.auth_login(request=None, email=broker.email, password=PASSWORD)
            second = services.auth_refresh(refresh_token=first.refresh_token)
            with pytest.raises(services.RefreshTokenReused):
                services.auth_refresh(refresh_token=first.refresh_token)
    finally:
        refresh_token_reused.disconnect(listener)
    family = TokenFamily.objects.get()
    assert [h["family_id"] for h in heard] == [str(family.pk)]
    assert family_revoked(family.pk)
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    assert BlacklistedToken.objects.filter(
        token__jti=RefreshToken(second.refresh_token, verify=False)["jti"]).exists()
    with pytest.raises(services.BadCredentials):
        services.auth_refresh(refresh_token=second.refresh_token)


def test_service_refuses_tokens_of_a_family_that_is_not_the_users(broker, other_broker):
    pair = services.auth_login(request=None, email=broker.email, password=PASSWORD)
    forged = RefreshToken.for_user(other_broker)
    forged[FAMILY_CLAIM] = str(TokenFamily.objects.get(user=broker).pk)
    with pytest.raises(services.BadCredentials):
        services.auth_refresh(refresh_token=str(forged))
    assert services.auth_refresh(refresh_token=pair.refresh_token).refresh_token


@pytest.mark.django_db(transaction=True)
def test_a_revoked_familys_access_token_does_not_open_a_websocket(broker):
    from asgiref.sync import async_to_sync

    from accounts.ws_auth import _user_from_token

    first = _login(broker)
    assert async_to_sync(_user_from_token)(first["access_token"]).is_authenticated
    _refresh(first["refresh_token"])
    _refresh(first["refresh_token"])
    assert not async_to_sync(_user_from_token)(first["access_token"]).is_authenticated


# --- a real race -----------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_give_exactly_one_pair(broker):
    pair = services.auth_login(request=None, email=broker.email, password=PASSWORD)
    barrier = threading.Barrier(2)
    results = []

    def refresh():
        barrier.wait()
        try:
            results.append(services.auth_refresh(refresh_token=pair.refresh_token))
        except services.BadCredentials as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, services.TokenPair)]
    assert len(winners) == 1
    assert isinstance([r for r in results if r not in winners][0], services.RefreshTokenReused)
    # the second one looked like a replay: the login is over, the winner's pair too
    with pytest.raises(services.BadCredentials):
        services.auth_refresh(refresh_token=winners[0].refresh_token)


def test_purge_deletes_only_families_whose_tokens_have_all_expired(broker):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    old, rotated, fresh = (services.auth_login(request=None, email=broker.email,
                                               password=PASSWORD) for _ in range(3))
    families = list(TokenFamily.objects.order_by("created_at"))
    long_ago = timezone.now() - datetime.timedelta(days=8)
    TokenFamily.objects.filter(pk__in=[f.pk for f in families[:2]]).update(created_at=long_ago)
    TokenFamily.objects.filter(pk=families[1].pk).update(rotated_at=timezone.now())
    call_command("flush_token_families")
    assert set(TokenFamily.objects.values_list("pk", flat=True)) == {families[1].pk,
                                                                    families[2].pk}
    assert services.token_families_purge() == 0


def test_a_signed_token_with_a_malformed_family_is_refused_not_an_error(broker):
    token = RefreshToken.for_user(broker)
    token[FAMILY_CLAIM] = "not-a-uuid"
    assert _refresh(str(token)).status_code == 401
    with pytest.raises(services.BadCredentials):
        services.auth_logout(refresh_token=str(token))


def test_the_authenticated_user_is_the_user_as_the_orm_reads_it(broker):
    from accounts.authentication import BearerJWTAuthentication

    auth = BearerJWTAuthentication()
    access = _login(broker)["access_token"]
    user = auth.get_user(auth.get_validated_token(access.encode()))
    expected = type(broker).objects.get(pk=broker.pk)
    for field in type(broker)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(expected, field.attname), field.name
    assert not user._state.adding and user._state.db == "default"
