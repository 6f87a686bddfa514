"""A list longer than COUNT_CAP is not counted to its end: its count is the planner's
estimate, and the pages then read one row ahead, so following `next` still sees every
row exactly once (the API's contract) whatever the estimate says."""

import pytest

from core import pagination
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _follow(client, url):
    seen, count = [], None
    while url:
        body = client.get(url).json()
        count = body["count"] if count is None else count
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    return seen, count


def test_a_staff_list_past_the_cap_is_estimated_and_next_still_reaches_every_row(
        monkeypatch, staff_client, agency, other_agency):
    every = {str(CustomerFactory(broker=agency).pk) for _ in range(7)}
    every.add(str(CustomerFactory(broker=other_agency).pk))
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    seen, count = _follow(staff_client, "/api/customers?page_size=2")
    assert count >= 4  # not counted to the end: at least past the cap
    assert sorted(seen) == sorted(every)  # every row once, none lost nor repeated


def test_a_staff_list_within_the_cap_is_counted_exactly(monkeypatch, staff_client, agency):
    for _ in range(3):
        CustomerFactory(broker=agency)
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    seen, count = _follow(staff_client, "/api/customers?page_size=2")
    assert count == 3 and len(set(seen)) == 3
    assert staff_client.get("/api/customers?page_size=2&page=3"
                            ).status_code == 404


def test_a_brokers_list_is_counted_exactly_past_the_cap(monkeypatch, broker_client, agency,
                                                        other_agency):
    mine = {str(CustomerFactory(broker=agency).pk) for _ in range(7)}
    CustomerFactory(broker=other_agency)
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    seen, count = _follow(broker_client, "/api/customers?page_size=2")
    assert count == 7
    assert sorted(seen) == sorted(mine)
    assert broker_client.get("/api/customers?page_size=2&page=5").status_code == 404
