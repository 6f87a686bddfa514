"""Two (or twenty) concurrent binds of one quote make exactly one policy."""

import threading

import pytest
from django.db import connection

from policies.models import Policy, Quote
from tests.conftest import client_for, requires_postgres
from tests.factories import AgencyFactory, CustomerFactory, UserFactory
from tests.underwriting.conftest import make_quote

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_binds_make_exactly_one_policy():
    agency = AgencyFactory()
    broker = UserFactory(agency=agency)
    quote = make_quote(broker, CustomerFactory(broker=agency))
    clients = [client_for(broker) for _ in range(12)]
    barrier = threading.Barrier(len(clients))
    codes = []

    def worker(client):
        try:
            barrier.wait()
            codes.append(client.post(f"/api/quotes/{quote.pk}/bind").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [409] * (len(clients) - 1)
    assert Policy.objects.filter(quote=quote).count() == 1
    assert Quote.objects.get(pk=quote.pk).status == "bound"
