"""Abuse limits: bounded search, bounded lists, bounded JSON; every API error JSON in
DRF's shape, never HTML, never Python's own wording; no caching of API answers."""

import json

import pytest
from django.test import AsyncClient, Client

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PYTHON_WORDING = (b"sys.set_int_max_str_digits", b"codec", b"Traceback", b"RecursionError",
                  b"JSON parse error", b"<html", b"<!DOCTYPE")


def _assert_api_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and body, body
    for word in PYTHON_WORDING:
        assert word.lower() not in response.content.lower(), response.content
    return body


def _post_json(path, raw, client=None):
    return (client or Client()).post(path, raw, content_type="application/json")


# --- JSON bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/refresh"])
def test_deeply_nested_json_is_a_400_not_a_500(path):
    body = _assert_api_error(_post_json(path, "[" * 5000 + "]" * 5000), 400)
    assert "nested too deeply" in body["detail"]
    body = _assert_api_error(_post_json(path, '{"a":' * 5000 + "1" + "}" * 5000), 400)
    assert "nested too deeply" in body["detail"]


def test_the_depth_limit_is_32_levels():
    from core.parsers import MAX_JSON_DEPTH

    assert MAX_JSON_DEPTH == 32
    deep = _post_json("/api/auth/login", '{"email": ' + "[" * 31 + "]" * 31 + "}")
    assert "nested too deeply" not in deep.content.decode()  # 32 levels: parsed
    assert deep.status_code == 400  # (and then refused by the serializer, as any bad email)
    deeper = _post_json("/api/auth/login", '{"email": ' + "[" * 32 + "]" * 32 + "}")
    assert "nested too deeply" in _assert_api_error(deeper, 400)["detail"]


def test_a_huge_integer_is_an_invalid_number_not_a_python_message():
    body = _assert_api_error(_post_json("/api/auth/login", '{"email": ' + "1" * 5000 + "}"),
                             400)
    assert body["detail"].startswith("Invalid number")


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"email": "caf\xe9"}'])
def test_bytes_that_are_not_utf8_are_malformed_json(raw):
    body = _assert_api_error(_post_json("/api/auth/login", raw), 400)
    assert body["detail"].startswith("Malformed JSON")


@pytest.mark.parametrize("raw,start", [
    (b'{"email": ', "Malformed JSON"),
    (b'{"email": NaN}', "Invalid number"),
    (b'{"email": -Infinity}', "Invalid number"),
])
def test_malformed_json_says_so_plainly(raw, start):
    assert _assert_api_error(_post_json("/api/auth/login", raw), 400)["detail"].startswith(start)


def test_an_oversized_json_body_is_a_413_in_json(settings):
    body = json.dumps({"email": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    detail = _assert_api_error(_post_json("/api/auth/login", body), 413)["detail"]
    assert "larger than" in detail


def test_an_oversized_body_without_a_length_is_cut_off_at_the_limit(settings, rf):
    import io

    from core.exceptions import PayloadTooLarge
    from core.parsers import JSONParser

    stream = io.BytesIO(b"[" + b"1," * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b"1]")
    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(stream, parser_context={"request": rf.post("/")})


def test_a_form_body_where_json_is_expected_is_a_json_415(settings):
    response = Client().post("/api/auth/login",
                             "a=" + "b" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
                             content_type="application/x-www-form-urlencoded")
    _assert_api_error(response, 415)


def test_an_oversized_multipart_field_is_a_413_in_json(settings, broker_client, agency):
    from tests.factories import ClaimFactory, PolicyFactory

    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    response = broker_client.post(
        f"/api/claims/{claim.pk}/documents",
        {"document_type": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)},
        format="multipart")
    _assert_api_error(response, 413)


@pytest.mark.asyncio
async def test_over_asgi_too_oversized_is_413_and_unknown_is_404_json(settings):
    client = AsyncClient()
    big = json.dumps({"email": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = await client.post("/api/auth/login", big, content_type="application/json")
    _assert_api_error(response, 413)
    _assert_api_error(await client.get("/api/nope"), 404)


# --- paths Django answers itself ------------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("get", "/api/nope"), ("get", "/api/nope/"), ("post", "/api/nope"),
    ("get", "/api/customers/not-a-uuid/x"), ("delete", "/api/"),
])
def test_unknown_api_paths_are_a_json_404(method, path):
    body = _assert_api_error(getattr(Client(enforce_csrf_checks=True), method)(path), 404)
    assert body == {"detail": "Not found."}


def test_unknown_pages_outside_the_api_stay_html():
    response = Client().get("/portal-nope")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_bad_request_under_the_api_is_json(rf):
    from django.core.exceptions import RequestDataTooBig, SuspiciousOperation

    from config import errors

    request = rf.get("/api/customers")
    assert errors.bad_request(request, RequestDataTooBig()).status_code == 413
    response = errors.bad_request(request, SuspiciousOperation())
    assert response.status_code == 400 and json.loads(response.content) == {
        "detail": "Bad request."}
    assert errors.server_error(request).status_code == 500
    assert json.loads(errors.server_error(request).content) == {"detail": "Server error."}
    assert errors.permission_denied(request).status_code == 403
    assert errors.bad_request(rf.get("/portal/"), SuspiciousOperation())["Content-Type"] \
        .startswith("text/html")


# --- search and lists -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/customers", "/api/policies", "/api/claims"])
def test_search_with_more_than_ten_terms_is_a_400_that_says_so(broker_client, path):
    body = _assert_api_error(broker_client.get(path, {"search": " ".join(["ab"] * 11)}), 400)
    assert body["search"] == ["Search may have at most 10 terms (it has 11)."]
    assert broker_client.get(path, {"search": " ".join(["ab"] * 10)}).status_code == 200


@pytest.mark.parametrize("path", ["/api/customers", "/api/policies", "/api/claims"])
def test_search_longer_than_200_characters_is_a_400_that_says_so(broker_client, path):
    body = _assert_api_error(broker_client.get(path, {"search": "a" * 201}), 400)
    assert body["search"] == ["Search text may be at most 200 characters (it has 201)."]
    assert broker_client.get(path, {"search": "a" * 200}).status_code == 200


def test_the_probe_search_of_thousands_of_words_is_refused(broker_client):
    words = " ".join(f"w{n}" for n in range(3400))
    _assert_api_error(broker_client.get("/api/customers", {"search": words}), 400)


def test_search_still_finds(broker_client, agency):
    CustomerFactory(broker=agency, first_name="Ada", last_name="Lovelace")
    CustomerFactory(broker=agency, first_name="Grace", last_name="Hopper")
    found = broker_client.get("/api/customers", {"search": "ada lovelace"}).json()
    assert [c["last_name"] for c in found["results"]] == ["Lovelace"]


def test_page_size_is_capped_at_100(rf):
    from rest_framework.exceptions import ValidationError
    from rest_framework.request import Request

    from core.pagination import PageNumberPagination

    paginator = PageNumberPagination()
    assert paginator.get_page_size(Request(rf.get("/", {"page_size": "100"}))) == 100
    for too_big in ("101", "100000", "9" * 5000):
        with pytest.raises(ValidationError):
            paginator.get_page_size(Request(rf.get("/", {"page_size": too_big})))


def test_ordering_only_on_the_fields_a_view_names(rf):
    from rest_framework.exceptions import ValidationError
    from rest_framework.request import Request

    from core.filters import StableOrderingFilter
    from customers.api import CustomerViewSet
    from customers.models import Customer

    view = CustomerViewSet()
    ordering = StableOrderingFilter()
    for asked, expected in [("last_name", ["last_name", "-id"]),
                            ("-email,first_name", ["-email", "first_name", "-id"])]:
        request = Request(rf.get("/", {"ordering": asked}))
        assert ordering.get_ordering(request, Customer.objects.all(), view) == expected
    for refused in ("phone", "broker__name"):  # encrypted; a join: not offered
        with pytest.raises(ValidationError):
            ordering.get_ordering(Request(rf.get("/", {"ordering": refused})),
                                  Customer.objects.all(), view)

    class Unnamed:  # a view naming no ordering fields offers none (not DRF's "all")
        ordering = ("-created_at",)
        serializer_class = CustomerViewSet.serializer_class

    assert ordering.get_ordering(Request(rf.get("/")), Customer.objects.all(),
                                 Unnamed()) == ["-created_at", "-id"]
    with pytest.raises(ValidationError):
        ordering.get_ordering(Request(rf.get("/", {"ordering": "email"})),
                              Customer.objects.all(), Unnamed())


def test_unknown_query_parameters_are_harmless(broker_client, agency):
    CustomerFactory(broker=agency)
    response = broker_client.get("/api/customers", {"foo": "bar", "x" * 50: "y"})
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- no caching of personal data -------------------------------------------------------------


def test_api_responses_say_no_store_private(broker_client, agency, anon_client):
    CustomerFactory(broker=agency)
    for response in (broker_client.get("/api/customers"),
                     broker_client.get("/api/customers?search=" + "a" * 201),
                     anon_client.get("/api/customers"),
                     Client().get("/api/nope")):
        assert response["Cache-Control"] == "no-store, private"


def test_the_login_answer_carrying_tokens_is_not_cached(broker):
    from tests.factories import PASSWORD

    response = _post_json("/api/auth/login",
                          json.dumps({"email": broker.email, "password": PASSWORD}))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


@pytest.mark.parametrize("text, deep", [
    ("[" * 32 + "]" * 32, False),
    ("[" * 33 + "]" * 33, True),
    ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside a string do not nest
    ('["\\"' + "[" * 50 + '"]', False),  # nor after an escaped quote
    ("[" * 20 + "{}," * 50 + "]" * 20, False),  # many siblings, little depth
    ('[{"a": ' * 17 + "1" + "}]" * 17, True),  # 34 levels, mixed
    ("[" * 40, False),  # unbalanced: left to the parser to call malformed
])
def test_depth_is_read_from_the_text_before_parsing(text, deep):
    from core.parsers import too_deep

    assert too_deep(text) is deep


def test_unknown_api_paths_are_json_with_debug_on_too(settings):
    settings.DEBUG = True
    _assert_api_error(Client().get("/api/nope"), 404)
    _assert_api_error(Client(enforce_csrf_checks=True).post("/api/nope/deeper", {}), 404)


def test_a_page_number_of_thousands_of_digits_is_a_400(broker_client):
    for name in ("page", "page_size"):
        body = _assert_api_error(broker_client.get("/api/customers", {name: "9" * 5000}), 400)
        assert name in body
