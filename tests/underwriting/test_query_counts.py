"""The quote list and a policy's detail cost a fixed number of queries."""

from decimal import Decimal

import pytest

from policies import services
from tests.factories import CustomerFactory
from tests.underwriting.conftest import TODAY, make_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def quotes(broker, agency):
    made = []
    for n in range(30):
        customer = CustomerFactory(broker=agency)
        quote = make_quote(broker, customer, policy_type=["auto", "home", "life", "health"][n % 4])
        if n % 3 == 0:
            services.quote_bind(actor=broker, quote=quote)
        made.append(quote)
    return made


@pytest.mark.parametrize("page_size", [1, 10, 30])
def test_quote_list_query_count(broker_client, quotes, django_assert_num_queries, page_size):
    # the caller + count + page (quote, customer, plan and bound policy in one join)
    with django_assert_num_queries(3):
        response = broker_client.get("/api/quotes", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("endorsements", [0, 1, 6])
def test_policy_detail_query_count(broker, broker_client, customer, django_assert_num_queries,
                                   endorsements):
    policy = services.quote_bind(actor=broker, quote=make_quote(broker, customer))
    for n in range(endorsements):
        services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY,
                                    reason="r", coverage_amount=Decimal(21000 + n))
        policy.refresh_from_db()
    # the caller + the policy (with customer and plan) + its terms history
    with django_assert_num_queries(3):
        response = broker_client.get(f"/api/policies/{policy.pk}")
    assert response.json()["version"] == endorsements + 1
    # the caller + the policy + count + page (no page query when the count is 0)
    with django_assert_num_queries(4 if endorsements else 3):
        broker_client.get(f"/api/policies/{policy.pk}/endorsements")
