"""Users who acted on the book are deactivated, never deleted: their trail stays whole."""

import pytest
from django.db.models import ProtectedError

from customers import services as customer_services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_user_who_created_records_cannot_be_deleted(broker):
    customer = customer_services.customer_create(
        actor=broker, email="kept@example.test", first_name="K", last_name="L",
        gdpr_consent=True)
    with pytest.raises(ProtectedError):
        broker.delete()
    customer.refresh_from_db()
    assert customer.created_by_id == broker.pk


def test_deactivated_user_cannot_log_in(anon_client, broker):
    broker.is_active = False
    broker.save()
    r = anon_client.post("/api/auth/login", {"email": broker.email, "password": PASSWORD},
                         format="json")
    assert r.status_code == 401


def test_a_user_without_records_can_be_deleted(other_broker):
    other_broker.delete()
