"""core.filters: typed list filters refuse bad values with a 400 naming them, and a
request that names no filter does not pay for building the filter form."""

import django_filters
import pytest

from claims.api import ClaimFilter
from compliance.api import AuditEntryFilter
from core.filters import _asks_for_none

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query,field", [
    ("status=", "status"), ("status=bogus", "status"), ("policy_id=nope", "policy_id"),
    ("claim_type=%20", "claim_type"),
])
def test_a_bad_or_blank_typed_filter_is_a_400_naming_it(broker_client, query, field):
    r = broker_client.get(f"/api/claims?{query}")
    assert r.status_code == 400
    assert field in r.json()  # DRF's shape: {field: [messages]}


def test_no_filter_named_means_no_filter_set_built():
    assert _asks_for_none(ClaimFilter, {"page": "2", "page_size": "25", "ordering": "x"})
    assert not _asks_for_none(ClaimFilter, {"status": "pending"})
    assert not _asks_for_none(ClaimFilter, {"status": ""})


def test_a_suffixed_parameter_counts_as_naming_its_filter():
    class Ranged(django_filters.FilterSet):
        amount = django_filters.NumericRangeFilter()

    assert not _asks_for_none(Ranged, {"amount_min": "1"})
    assert _asks_for_none(Ranged, {"page": "1"})


def test_filter_sets_that_filter_on_their_own_or_require_a_value_are_always_built():
    class Required(django_filters.FilterSet):
        status = django_filters.CharFilter(required=True)

    class OwnQs(django_filters.FilterSet):
        status = django_filters.CharFilter()

        @property
        def qs(self):
            return super().qs

    assert not _asks_for_none(AuditEntryFilter, {})
    assert not _asks_for_none(Required, {})
    assert not _asks_for_none(OwnQs, {})
