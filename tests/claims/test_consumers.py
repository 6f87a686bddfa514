"""The live claim status WebSocket (`/ws/claims/`), as API.md describes it."""

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from claims.models import ClaimStatus
from claims.services import claim_transition
from config.asgi import application
from customers.services import customer_update
from tests.conftest import requires_postgres, requires_redis
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def _socket(path="/ws/claims/", headers=()):
    return WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])


def _with_token(user):
    return _socket(f"/ws/claims/?token={AccessToken.for_user(user)}")


@pytest.fixture
def book(agency, other_agency):
    broker = UserFactory(agency=agency)
    own = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    foreign = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    staff = UserFactory(staff=True)
    return {"broker": broker, "own": own, "foreign": foreign, "staff": staff}


async def _open(communicator):
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _ask(communicator, message):
    await communicator.send_json_to(message)
    return await communicator.receive_json_from(timeout=5)


@pytest.mark.asyncio
async def test_unauthenticated_is_accepted_then_closed_with_4401(db):
    communicator = await _open(_socket())
    assert await communicator.receive_output(timeout=5) == {
        "type": "websocket.close", "code": 4401}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_bad_token_is_closed_with_4401(db):
    communicator = await _open(_socket("/ws/claims/?token=not-a-jwt"))
    assert (await communicator.receive_output(timeout=5))["code"] == 4401
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_program_without_origin_header_may_connect_with_a_token(book):
    communicator = WebsocketCommunicator(
        application, f"/ws/claims/?token={AccessToken.for_user(book['broker'])}")
    await _open(communicator)
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_foreign_origin_is_refused_at_the_handshake(book):
    communicator = WebsocketCommunicator(
        application, f"/ws/claims/?token={AccessToken.for_user(book['broker'])}",
        headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.asyncio
async def test_subscribe_ping_and_receive_a_status_change(book):
    claim = book["own"]
    communicator = await _open(_with_token(book["broker"]))
    assert await _ask(communicator, {"type": "subscribe", "claim_id": str(claim.pk)}) == {
        "type": "subscribed", "claim_id": str(claim.pk)}
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}

    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=book["staff"])
    event = await communicator.receive_json_from(timeout=5)
    assert event["type"] == "claim.status"
    assert event["claim_id"] == str(claim.pk)
    assert event["claim_number"] == claim.claim_number
    assert (event["status"], event["previous_status"]) == ("processing", "pending")
    assert event["updated_at"]
    assert set(event) == {"type", "claim_id", "claim_number", "status", "previous_status",
                          "updated_at"}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_events_of_claims_not_subscribed_do_not_arrive(book):
    communicator = await _open(_with_token(book["staff"]))
    await _ask(communicator, {"type": "subscribe", "claim_id": str(book["own"].pk)})
    await database_sync_to_async(claim_transition)(
        claim_id=book["foreign"].pk, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_another_agencys_claim_is_not_found_and_sends_nothing(book):
    communicator = await _open(_with_token(book["broker"]))
    foreign = str(book["foreign"].pk)
    reply = await _ask(communicator, {"type": "subscribe", "claim_id": foreign})
    assert reply["type"] == "error" and reply["code"] == "not_found"
    await database_sync_to_async(claim_transition)(
        claim_id=foreign, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.parametrize("claim_id", ["nope", 42, None, str(uuid.uuid4()), ["x"]])
async def test_malformed_or_unknown_ids_are_not_found(book, claim_id):
    communicator = await _open(_with_token(book["broker"]))
    reply = await _ask(communicator, {"type": "subscribe", "claim_id": claim_id})
    assert (reply["type"], reply["code"]) == ("error", "not_found")
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_invalid_json_is_an_error_and_the_socket_stays_open(book):
    communicator = await _open(_with_token(book["broker"]))
    await communicator.send_to(text_data="{not json")
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "error", "message": "Invalid JSON format"}
    await communicator.send_to(bytes_data=b"\xff\xfe")
    assert (await communicator.receive_json_from(timeout=5))["message"] == "Invalid JSON format"
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    reply = await _ask(communicator, {"type": "dance"})
    assert (reply["type"], reply["code"]) == ("error", "unknown_type")
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_the_portal_session_cookie_authenticates(book):
    client = Client()
    await database_sync_to_async(client.force_login)(book["broker"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await _open(_socket(headers=[(b"cookie", cookie)]))
    claim_id = str(book["own"].pk)
    assert await _ask(communicator, {"type": "subscribe", "claim_id": claim_id}) == {
        "type": "subscribed", "claim_id": claim_id}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_unsubscribe_stops_the_events(book):
    claim_id = str(book["own"].pk)
    communicator = await _open(_with_token(book["broker"]))
    await _ask(communicator, {"type": "subscribe", "claim_id": claim_id})
    assert (await _ask(communicator, {"type": "unsubscribe", "claim_id": claim_id}))[
        "type"] == "unsubscribed"
    await database_sync_to_async(claim_transition)(
        claim_id=claim_id, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_an_integrator_needs_the_view_permission(book):
    integrator = await database_sync_to_async(UserFactory)(integrator=True)
    claim_id = str(book["own"].pk)
    communicator = await _open(_with_token(integrator))
    assert (await _ask(communicator, {"type": "subscribe", "claim_id": claim_id}))[
        "code"] == "not_found"
    await communicator.disconnect()

    def grant():
        integrator.user_permissions.add(Permission.objects.get(codename="view_claim"))

    await database_sync_to_async(grant)()
    communicator = await _open(_with_token(integrator))
    assert (await _ask(communicator, {"type": "subscribe", "claim_id": claim_id}))[
        "type"] == "subscribed"
    await communicator.disconnect()


# --- Two real server processes sharing Redis ----------------------------------------


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_change_made_through_one_process_reaches_a_socket_on_another(book, tmp_path):
    """Socket on process A; staff approve through the API on process B; A hears it."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from tests.browser.servers import DaphneServer, api

    claim = book["own"]
    staff_token = str(AccessToken.for_user(book["staff"]))
    broker_token = str(AccessToken.for_user(book["broker"]))
    a = DaphneServer(media_root=tmp_path / "media", log_path=tmp_path / "a.log")
    b = DaphneServer(media_root=tmp_path / "media", log_path=tmp_path / "b.log")
    try:
        # A real client sees the 4401 close code (the socket is accepted first).
        with connect(f"{a.ws_url}/ws/claims/", origin=a.url, open_timeout=10) as anonymous:
            with pytest.raises(ConnectionClosed) as closed:
                anonymous.recv(timeout=10)
            assert closed.value.rcvd.code == 4401

        with connect(f"{a.ws_url}/ws/claims/?token={broker_token}", origin=a.url,
                     open_timeout=10) as ws:
            ws.send(json.dumps({"type": "subscribe", "claim_id": str(claim.pk)}))
            assert json.loads(ws.recv(timeout=10)) == {
                "type": "subscribed", "claim_id": str(claim.pk)}

            for status in ("processing", "approved"):
                code, body = api(b, "PATCH", f"/api/claims/{claim.pk}", {"status": status},
                                 token=staff_token)
                assert (code, body["status"]) == (200, status), body
                event = json.loads(ws.recv(timeout=10))
                assert event["type"] == "claim.status"
                assert (event["claim_id"], event["status"]) == (str(claim.pk), status)

            ws.send(json.dumps({"type": "ping"}))
            assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    finally:
        a.stop()
        b.stop()


# --- The socket follows the session ----------------------------------------------------


async def _closed_code(communicator):
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message["code"]


@pytest.mark.asyncio
async def test_api_logout_closes_that_users_sockets_only(book):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    mine = await _open(_with_token(book["broker"]))
    theirs = await _open(_with_token(book["staff"]))
    assert await _ask(mine, {"type": "ping"}) == {"type": "pong"}

    def logout():
        refresh = RefreshToken.for_user(book["broker"])
        return APIClient().post("/api/auth/logout", {"refresh_token": str(refresh)},
                                format="json").status_code

    assert await database_sync_to_async(logout)() == 204
    assert await _closed_code(mine) == 4401
    assert await _ask(theirs, {"type": "ping"}) == {"type": "pong"}
    await theirs.disconnect()


@pytest.mark.asyncio
async def test_portal_logout_closes_the_session_socket(book):
    client = Client()
    await database_sync_to_async(client.force_login)(book["broker"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await _open(_socket(headers=[(b"cookie", cookie)]))
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    response = await database_sync_to_async(client.post)("/portal/logout/")
    assert response.status_code == 302
    assert await _closed_code(communicator) == 4401


@pytest.mark.asyncio
async def test_admin_logout_closes_the_staff_socket(book):
    client = Client()
    await database_sync_to_async(client.force_login)(book["staff"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await _open(_socket(headers=[(b"cookie", cookie)]))
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    response = await database_sync_to_async(client.post)("/admin/logout/")
    assert response.status_code in (200, 302)
    assert await _closed_code(communicator) == 4401


@pytest.mark.asyncio
async def test_a_failed_logout_closes_nothing(book):
    from rest_framework.test import APIClient

    communicator = await _open(_with_token(book["broker"]))

    def logout():
        return APIClient().post("/api/auth/logout", {"refresh_token": "garbage"},
                                format="json").status_code

    assert await database_sync_to_async(logout)() == 401
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_claim_that_is_no_longer_visible_stops_sending(book, other_agency):
    claim = book["own"]
    broker_socket = await _open(_with_token(book["broker"]))
    staff_socket = await _open(_with_token(book["staff"]))
    for communicator in (broker_socket, staff_socket):
        assert (await _ask(communicator, {"type": "subscribe", "claim_id": str(claim.pk)}))[
            "type"] == "subscribed"

    def move_customer():  # the customer changes agency: the claim leaves this broker's book
        customer_update(actor=book["staff"], customer=claim.policy.customer,
                        data={"broker": other_agency})

    await database_sync_to_async(move_customer)()
    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert (await staff_socket.receive_json_from(timeout=5))["status"] == "processing"
    assert await broker_socket.receive_nothing(timeout=0.5)
    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.APPROVED, actor=book["staff"])
    assert (await staff_socket.receive_json_from(timeout=5))["status"] == "approved"
    assert await broker_socket.receive_nothing(timeout=0.5)
    assert await _ask(broker_socket, {"type": "ping"}) == {"type": "pong"}  # still open
    await broker_socket.disconnect()
    await staff_socket.disconnect()


@pytest.mark.asyncio
async def test_a_deactivated_user_is_closed_at_the_next_event(book):
    claim = book["own"]
    communicator = await _open(_with_token(book["broker"]))
    await _ask(communicator, {"type": "subscribe", "claim_id": str(claim.pk)})

    def deactivate():
        type(book["broker"]).objects.filter(pk=book["broker"].pk).update(is_active=False)

    await database_sync_to_async(deactivate)()
    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert await _closed_code(communicator) == 4401


# --- Fan-out: one read per event and process, whatever the number of sockets ----------


@pytest.fixture
def reads(monkeypatch):
    """Each read of who still sees a claim (claims.consumers._audience): its number of
    (user, claim) questions and of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims import consumers

    original, seen = consumers._audience, []

    def counted(pairs):
        with CaptureQueriesContext(connection) as queries:
            result = original(pairs)
        seen.append((len(pairs), len(queries)))
        return result

    monkeypatch.setattr(consumers, "_audience", counted)
    return seen


@pytest.mark.asyncio
async def test_an_event_to_many_sockets_is_one_read_of_two_queries(book, agency, reads):
    claim_id = str(book["own"].pk)
    colleague = await database_sync_to_async(UserFactory)(agency=agency)
    users = [book["broker"]] * 3 + [colleague, book["staff"]]
    sockets = [await _open(_with_token(user)) for user in users]
    for socket in sockets:
        assert (await _ask(socket, {"type": "subscribe", "claim_id": claim_id}))[
            "type"] == "subscribed"
    reads.clear()

    await database_sync_to_async(claim_transition)(
        claim_id=claim_id, to=ClaimStatus.PROCESSING, actor=book["staff"])
    for socket in sockets:
        assert (await socket.receive_json_from(timeout=5))["status"] == "processing"
    assert reads == [(3, 2)]  # three users, one claim: the users, then the claim
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.asyncio
async def test_one_event_one_read_each_socket_its_own_verdict(book, agency, other_agency):
    """Read once for all: staff and a colleague get it, a broker deactivated since is
    closed, and once the customer moves, the agency's brokers stop getting events."""
    claim = book["own"]
    colleague, leaver = [await database_sync_to_async(UserFactory)(agency=agency)
                         for _ in range(2)]
    staff_socket, colleague_socket, leaver_socket = [
        await _open(_with_token(user)) for user in (book["staff"], colleague, leaver)]
    for socket in (staff_socket, colleague_socket, leaver_socket):
        await _ask(socket, {"type": "subscribe", "claim_id": str(claim.pk)})

    def deactivate():
        type(leaver).objects.filter(pk=leaver.pk).update(is_active=False)

    await database_sync_to_async(deactivate)()
    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert (await staff_socket.receive_json_from(timeout=5))["status"] == "processing"
    assert (await colleague_socket.receive_json_from(timeout=5))["status"] == "processing"
    assert await _closed_code(leaver_socket) == 4401

    def move_customer():
        customer_update(actor=book["staff"], customer=claim.policy.customer,
                        data={"broker": other_agency})

    await database_sync_to_async(move_customer)()
    await database_sync_to_async(claim_transition)(
        claim_id=claim.pk, to=ClaimStatus.APPROVED, actor=book["staff"])
    assert (await staff_socket.receive_json_from(timeout=5))["status"] == "approved"
    assert await colleague_socket.receive_nothing(timeout=0.5)
    assert await _ask(colleague_socket, {"type": "ping"}) == {"type": "pong"}
    await staff_socket.disconnect()
    await colleague_socket.disconnect()


@pytest.mark.asyncio
async def test_an_integrator_whose_permission_is_withdrawn_stops_getting_events(book):
    claim_id = str(book["own"].pk)
    integrator = await database_sync_to_async(UserFactory)(integrator=True)
    permission = await database_sync_to_async(Permission.objects.get)(codename="view_claim")
    await database_sync_to_async(integrator.user_permissions.add)(permission)
    communicator = await _open(_with_token(integrator))
    assert (await _ask(communicator, {"type": "subscribe", "claim_id": claim_id}))[
        "type"] == "subscribed"
    await database_sync_to_async(claim_transition)(
        claim_id=claim_id, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert (await communicator.receive_json_from(timeout=5))["status"] == "processing"

    await database_sync_to_async(integrator.user_permissions.remove)(permission)
    await database_sync_to_async(claim_transition)(
        claim_id=claim_id, to=ClaimStatus.APPROVED, actor=book["staff"])
    assert await communicator.receive_nothing(timeout=0.5)
    assert await _ask(communicator, {"type": "ping"}) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_the_process_stays_in_a_group_while_one_of_its_sockets_is(book):
    from channels.layers import get_channel_layer

    from core.live import LocalGroups

    claim_id = str(book["own"].pk)
    first, second = [await _open(_with_token(book["broker"])) for _ in range(2)]
    for socket in (first, second):
        await _ask(socket, {"type": "subscribe", "claim_id": claim_id})
    local = LocalGroups.here(get_channel_layer())
    assert len(local.groups[f"claim.{claim_id}"]) == 2

    await _ask(first, {"type": "unsubscribe", "claim_id": claim_id})
    await database_sync_to_async(claim_transition)(
        claim_id=claim_id, to=ClaimStatus.PROCESSING, actor=book["staff"])
    assert (await second.receive_json_from(timeout=5))["status"] == "processing"
    assert await first.receive_nothing(timeout=0.5)

    await first.disconnect()
    await second.disconnect()
    assert local.groups == {}  # the last socket gone, the process left every group
    assert local.receiver is None
