import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import AgencyFactory, UserFactory

IS_POSTGRES = settings.IS_POSTGRES
IN_CI = os.environ.get("CI") == "true"

if IN_CI and not IS_POSTGRES:  # CI must exercise the real engines, never skip them
    raise RuntimeError("CI runs the tests on PostgreSQL: set DATABASE_URL.")
if IN_CI and not settings.REDIS_URL:
    raise RuntimeError("CI runs the tests against Redis: set REDIS_URL.")

requires_postgres = pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
requires_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings, tmp_path):
    """Local document storage goes to a fresh folder per test."""
    from django.core.files.storage import storages

    settings.MEDIA_ROOT = str(tmp_path / "documents")
    for alias in ("default", "documents"):
        if settings.STORAGES[alias]["BACKEND"].endswith("FileSystemStorage"):
            options = dict(settings.STORAGES[alias].get("OPTIONS", {}))
            options["location"] = settings.MEDIA_ROOT
            settings.STORAGES = {**settings.STORAGES,
                                 alias: {**settings.STORAGES[alias], "OPTIONS": options}}
    storages._storages = {}
    yield
    storages._storages = {}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def agency(db):
    return AgencyFactory(name="Northwind Brokers")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(name="Contoso Brokers")


@pytest.fixture
def staff(db):
    return UserFactory(staff=True, email="handler@example.test")


@pytest.fixture
def broker(agency):
    return UserFactory(agency=agency, email="broker@northwind.test")


@pytest.fixture
def other_broker(other_agency):
    return UserFactory(agency=other_agency, email="broker@contoso.test")


@pytest.fixture
def integrator(db):
    return UserFactory(integrator=True, email="svc@integrator.test")


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


@pytest.fixture
def broker_client(broker):
    return client_for(broker)


@pytest.fixture
def other_broker_client(other_broker):
    return client_for(other_broker)


@pytest.fixture(scope="session", autouse=True)
def _async_clients_give_their_connections_back(django_db_setup, django_db_blocker):
    """The test clients keep a request's database connection open (they disconnect
    close_old_connections from request_finished, for the test's transaction). An
    AsyncClient's middleware and views reach the ORM in asgiref's single sync
    thread, so that thread holds a pooled connection checked out to the end of the
    run, and the test database could not be dropped ("being accessed by other
    users"). Give it back before the database goes."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
