"""/api/webhooks as an integrator uses it (API.md, Events for integrators)."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from events.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.conftest import client_for
from tests.factories import ClaimFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "https://93.184.215.14/hooks"
FIELDS = {"id", "url", "events", "description", "status", "disabled_reason", "created_at",
          "updated_at"}


def integrator_with(*codenames):
    user = UserFactory(integrator=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="events", codename__in=codenames))
    return user


def test_create_shows_the_secret_once_and_stores_it_encrypted(settings, staff_client):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = staff_client.post("/api/webhooks", {
        "url": URL, "events": ["claim.status_changed", "claim.created"],
        "description": "Claims system"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS | {"secret"}
    assert body["secret"].startswith("whsec_") and body["status"] == "active"
    assert body["events"] == ["claim.created", "claim.status_changed"]
    listed = staff_client.get("/api/webhooks").json()
    assert listed["count"] == 1 and set(listed["results"][0]) == FIELDS
    detail = staff_client.get(f"/api/webhooks/{body['id']}").json()
    assert "secret" not in detail
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_webhookendpoint")
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and body["secret"] not in stored
    assert WebhookEndpoint.objects.get().secret == body["secret"]


@pytest.mark.parametrize("payload, field", [
    ({"url": "http://93.184.215.14/h", "events": ["claim.created"]}, "url"),
    ({"url": "https://127.0.0.1/h", "events": ["claim.created"]}, "url"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": ["claim.exploded"]}, "events"),
    ({"url": URL}, "events"),
    ({"events": ["claim.created"]}, "url"),
])
def test_bad_input_is_a_400_naming_the_field(settings, staff_client, payload, field):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = staff_client.post("/api/webhooks", payload)
    assert response.status_code == 400 and field in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_private_urls_allowed_when_the_setting_lifts_the_rules(settings, staff_client):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    response = staff_client.post("/api/webhooks", {"url": "http://127.0.0.1:9/h",
                                                   "events": ["policy.cancelled"]})
    assert response.status_code == 201


def test_who_may_manage_webhooks(broker_client, anon_client):
    assert anon_client.get("/api/webhooks").status_code == 401
    assert broker_client.get("/api/webhooks").status_code == 403
    assert broker_client.post("/api/webhooks", {"url": URL, "events": ["claim.created"]}
                              ).status_code == 403
    bare = client_for(UserFactory(integrator=True))
    assert bare.post("/api/webhooks", {"url": URL, "events": ["claim.created"]}
                     ).status_code == 403
    granted = client_for(integrator_with("add_webhookendpoint", "view_webhookendpoint"))
    assert granted.post("/api/webhooks", {"url": URL, "events": ["claim.created"]}
                        ).status_code == 201
    assert granted.get("/api/webhooks").json()["count"] == 1
    assert bare.get("/api/webhooks").status_code == 403


def test_an_integrator_sees_only_its_own_endpoints(staff_client):
    owner = integrator_with("add_webhookendpoint", "view_webhookendpoint",
                            "change_webhookendpoint", "delete_webhookendpoint")
    other = client_for(integrator_with("view_webhookendpoint", "change_webhookendpoint",
                                       "delete_webhookendpoint"))
    created = client_for(owner).post("/api/webhooks", {"url": URL, "events": ["claim.created"]})
    pk = created.json()["id"]
    assert other.get("/api/webhooks").json()["count"] == 0
    assert other.get(f"/api/webhooks/{pk}").status_code == 404
    assert other.patch(f"/api/webhooks/{pk}", {"description": "x"}).status_code == 404
    assert other.delete(f"/api/webhooks/{pk}").status_code == 404
    assert staff_client.get("/api/webhooks").json()["count"] == 1


def test_patch_and_delete(staff_client):
    pk = staff_client.post("/api/webhooks", {"url": URL, "events": ["claim.created"]}).json()["id"]
    response = staff_client.patch(f"/api/webhooks/{pk}", {
        "events": ["policy.cancelled"], "description": "Policy admin", "status": "disabled"})
    assert response.status_code == 200
    body = response.json()
    assert body["events"] == ["policy.cancelled"] and body["status"] == "disabled"
    assert body["description"] == "Policy admin" and "secret" not in body
    assert staff_client.patch(f"/api/webhooks/{pk}", {"events": ["nope"]}).status_code == 400
    enabled = staff_client.patch(f"/api/webhooks/{pk}", {"status": "active"}).json()
    assert enabled["status"] == "active" and enabled["disabled_reason"] == ""
    assert staff_client.delete(f"/api/webhooks/{pk}").status_code == 204
    assert staff_client.get(f"/api/webhooks/{pk}").status_code == 404


def test_deliveries_list_and_redeliver(staff, staff_client, agency,
                                       django_capture_on_commit_callbacks):
    pk = staff_client.post("/api/webhooks", {"url": URL, "events": ["claim.created"]}).json()["id"]
    endpoint = WebhookEndpoint.objects.get(pk=pk)
    claim = ClaimFactory(policy__customer__broker=agency)
    from events import services

    event = services.event_record(type="claim.created", claim=claim)
    services.event_fanout(event_id=event.pk)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=5,
                                                          last_status_code=502,
                                                          next_attempt_at=None)
    response = staff_client.get(f"/api/webhooks/{pk}/deliveries")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row == {"id": str(delivery.pk), "event_id": str(event.pk),
                   "event_type": "claim.created", "status": "failed", "attempts": 5,
                   "last_status_code": 502, "next_attempt_at": None,
                   "created_at": row["created_at"]}
    assert staff_client.get(f"/api/webhooks/{pk}/deliveries?status=delivered"
                            ).json()["count"] == 0
    assert staff_client.get(f"/api/webhooks/{pk}/deliveries?status=bogus").status_code == 400
    redeliver = f"/api/webhooks/{pk}/deliveries/{delivery.pk}/redeliver"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(redeliver)
    assert response.status_code == 202
    assert response.json()["status"] == "pending" and len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert endpoint.deliveries.count() == 1
    other = OutboxEvent.objects.create(type="claim.created", data={}, resource_type="claim",
                                       resource_id=claim.pk)
    assert staff_client.post(f"/api/webhooks/{pk}/deliveries/{other.pk}/redeliver"
                             ).status_code == 404
    endpoint.status = "disabled"
    endpoint.save()
    assert staff_client.post(redeliver).status_code == 400


def test_schema_lists_the_webhook_operations(staff_client):
    paths = {path.rstrip("/"): ops for path, ops in
             staff_client.get("/api/schema?format=json").json()["paths"].items()}
    assert {"get", "post"} <= set(paths["/api/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/api/webhooks/{id}"])
    assert "get" in paths["/api/webhooks/{id}/deliveries"]
    redeliver = paths["/api/webhooks/{id}/deliveries/{delivery_id}/redeliver"]
    assert "202" in redeliver["post"]["responses"]
