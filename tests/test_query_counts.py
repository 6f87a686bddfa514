"""Every list endpoint costs the same number of queries for 1, 25 or 100 rows."""

import pytest

from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

# count + page (+ prefetch of documents for claims); auth reads the user once.
EXPECTED = {
    "/api/customers": 3,
    "/api/policies": 3,
    "/api/claims": 4,
}


@pytest.fixture
def book(agency):
    customers = CustomerFactory.create_batch(100, broker=agency)
    policies = [PolicyFactory(customer=c) for c in customers]
    for p in policies:
        ClaimFactory(policy=p)
    return customers


@pytest.mark.parametrize("path", sorted(EXPECTED))
@pytest.mark.parametrize("page_size", [1, 25, 100])
def test_list_query_count(broker_client, book, django_assert_num_queries, path, page_size):
    with django_assert_num_queries(EXPECTED[path]):
        r = broker_client.get(path, {"page_size": page_size})
    assert r.status_code == 200
    assert len(r.json()["results"]) == page_size


@pytest.mark.parametrize("path", sorted(EXPECTED))
@pytest.mark.parametrize("page_size", [1, 25, 100])
def test_staff_list_query_count(staff_client, book, django_assert_num_queries, path,
                                page_size):
    # The whole book's count is read from its tally (core.db.tallies), as a broker's.
    with django_assert_num_queries(EXPECTED[path]):
        r = staff_client.get(path, {"page_size": page_size})
    assert len(r.json()["results"]) == page_size


def test_summary_query_count(broker_client, book, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert broker_client.get("/api/policies/summary").status_code == 200


# The portal's lists: session, user, the user's agency (page header), the count, one
# page of rows with their joins (customers: with their policy counts).
PORTAL_LISTS = {
    "/portal/customers/": ("customers.views", 5, r'href="/portal/customers/[0-9a-f-]{36}/"'),
    "/portal/claims/": ("claims.views", 5, r"data-live-claim="),
}


@pytest.mark.parametrize("path", sorted(PORTAL_LISTS))
@pytest.mark.parametrize("page_size", [1, 25, 100])
def test_portal_list_query_count(broker, book, django_assert_num_queries, monkeypatch, path,
                                 page_size):
    import importlib
    import re

    from django.test import Client

    module, expected, row = PORTAL_LISTS[path]
    monkeypatch.setattr(importlib.import_module(module), "PAGE_SIZE", page_size)
    client = Client()
    client.force_login(broker)
    client.get(path)  # warm
    with django_assert_num_queries(expected):
        response = client.get(path)
    assert response.status_code == 200
    assert len(re.findall(row, response.content.decode())) == page_size
