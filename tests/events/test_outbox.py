"""The outbox: written in the transaction of the change, dispatched once it commits."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from claims import services as claim_services
from claims.api import ClaimOutput
from events import services
from events.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from policies import services as policy_services
from policies.api import PolicyOutput
from tests.factories import ClaimFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


def endpoint_for(owner, events=("claim.created", "claim.status_changed", "policy.cancelled"),
                 url="https://hooks.example.test/in"):
    return WebhookEndpoint.objects.create(owner=owner, url=url, events=list(events),
                                          secret="whsec_" + "A" * 32)


def test_claim_created_is_recorded_with_the_api_representation(broker, agency):
    policy = PolicyFactory(customer__broker=agency)
    claim = claim_services.claim_create(
        actor=broker, policy_id=policy.pk, claim_type="accident",
        claim_amount=Decimal("1200.50"), description="Hail on the roof.",
        incident_date=timezone.localdate() - datetime.timedelta(days=1))
    (event,) = OutboxEvent.objects.all()
    assert event.type == "claim.created"
    assert event.resource_type == "claim" and event.resource_id == claim.pk
    assert event.customer_id == policy.customer_id
    assert event.dispatched_at is None
    claim.refresh_from_db()
    expected = dict(ClaimOutput(claim).data)
    assert event.data["claim_amount"] == "1200.50" == expected["claim_amount"]
    assert event.data["id"] == str(claim.pk) and event.data["status"] == "pending"
    body = event.body()
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["id"] == str(event.pk) and body["created_at"].endswith("Z")


def test_status_change_and_cancellation_are_recorded(staff, agency):
    claim = ClaimFactory(policy__customer__broker=agency)
    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    policy = PolicyFactory(customer__broker=agency)
    policy_services.policy_cancel(actor=staff, policy=policy, reason="Sold the car")
    events = {e.type: e for e in OutboxEvent.objects.all()}
    assert set(events) == {"claim.status_changed", "policy.cancelled"}
    assert events["claim.status_changed"].data["status"] == "processing"
    policy.refresh_from_db()
    assert events["policy.cancelled"].data == {
        **{k: (str(v) if v is not None and not isinstance(v, int | dict) else v)
           for k, v in PolicyOutput(policy).data.items()},
        "cancelled_at": events["policy.cancelled"].data["cancelled_at"],
        "created_at": events["policy.cancelled"].data["created_at"],
        "updated_at": events["policy.cancelled"].data["updated_at"],
    }
    assert events["policy.cancelled"].data["status"] == "cancelled"


def test_a_rolled_back_change_emits_nothing(staff, agency):
    claim = ClaimFactory(policy__customer__broker=agency)
    with pytest.raises(RuntimeError), transaction.atomic():
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
        assert OutboxEvent.objects.count() == 1  # inside: written with the change
        raise RuntimeError("the caller's later step fails")
    assert OutboxEvent.objects.count() == 0
    claim.refresh_from_db()
    assert claim.status == "pending"


def test_a_refused_transition_emits_nothing(staff, agency):
    claim = ClaimFactory(policy__customer__broker=agency, status="denied",
                         processed_date=timezone.now())
    with pytest.raises(claim_services.TransitionNotAllowed):
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    assert OutboxEvent.objects.count() == 0


def test_dispatch_waits_for_the_commit(staff, agency, django_capture_on_commit_callbacks):
    claim = ClaimFactory(policy__customer__broker=agency)
    endpoint_for(staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    assert WebhookDelivery.objects.count() == 0  # nothing left the transaction
    assert callbacks


def test_fanout_reaches_subscribed_active_endpoints_whose_owner_sees_the_claim(
        staff, agency, other_agency):
    claim = ClaimFactory(policy__customer__broker=agency)
    subscribed = endpoint_for(staff)
    endpoint_for(staff, events=["policy.cancelled"])  # not subscribed
    disabled = endpoint_for(staff)
    disabled.status = WebhookEndpoint.Status.DISABLED
    disabled.save()
    integrator_without_view = UserFactory(integrator=True)
    endpoint_for(integrator_without_view)
    integrator = UserFactory(integrator=True)
    integrator.user_permissions.add(Permission.objects.get(codename="view_claim"))
    allowed = endpoint_for(integrator)
    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    event = OutboxEvent.objects.get()
    deliveries, emails = services.event_fanout(event_id=event.pk)
    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {
        subscribed.pk, allowed.pk}
    assert len(deliveries) == 2 and emails == []
    event.refresh_from_db()
    assert event.dispatched_at is not None
    # A second fan-out (a duplicate message, the sweep) adds nothing.
    assert services.event_fanout(event_id=event.pk) == ([], [])
    assert WebhookDelivery.objects.count() == 2


def test_sweep_finds_undispatched_events_and_due_deliveries_after_the_grace(settings, staff,
                                                                            agency):
    settings.EVENTS_SWEEP_GRACE_SECONDS = 60
    claim = ClaimFactory(policy__customer__broker=agency)
    endpoint_for(staff)
    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    event = OutboxEvent.objects.get()
    assert services.outbox_sweep()["fanout"] == []  # still within the grace
    OutboxEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=61))
    assert services.outbox_sweep()["fanout"] == [event.pk]
    services.event_fanout(event_id=event.pk)
    delivery = WebhookDelivery.objects.get()
    assert services.outbox_sweep() == {"fanout": [], "deliver": [], "send_email": []}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=61))
    assert services.outbox_sweep()["deliver"] == [delivery.pk]
    # A delivery held by a live worker is left alone until its lease runs out.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        leased_until=timezone.now() + datetime.timedelta(seconds=30))
    assert services.outbox_sweep()["deliver"] == []


def test_unknown_event_type_is_refused(agency):
    claim = ClaimFactory(policy__customer__broker=agency)
    with pytest.raises(ValueError):
        services.event_record(type="claim.exploded", claim=claim)
