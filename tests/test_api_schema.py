"""The schema tells the truth: declared error answers, strict filters, paging, ordering,
and /api/schema readable in a browser."""

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator

from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(schema, ref):
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_operation_declares_its_error_answers_with_bodies(schema):
    seen = 0
    for path, method, op in _operations(schema):
        seen += 1
        responses = op["responses"]
        params = op.get("parameters", [])
        security = op.get("security") or []
        where = f"{method.upper()} {path}"
        if security and {} not in security:
            assert {"401", "403"} <= set(responses), where
            assert "WWW-Authenticate" in responses["401"]["headers"], where
        if "requestBody" in op or any(p["in"] == "query" for p in params):
            assert "400" in responses, where
            ref = responses["400"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ValidationError"), where
        if "requestBody" in op:
            assert {"413", "415"} <= set(responses), where
        if any(p["in"] == "path" for p in params):
            assert "404" in responses, where
        if method != "get" and any(p["in"] == "path" for p in params):
            assert "409" in responses, where
        if "429" in responses:
            assert "Retry-After" in responses["429"]["headers"], where
        for code, response in responses.items():
            if code.startswith("4"):
                assert "application/json" in response.get("content", {}), (where, code)
    assert seen >= 25


def test_throttled_operations_declare_429_and_login_does(schema):
    assert "429" in schema["paths"]["/api/customers/"]["get"]["responses"]
    assert "429" in schema["paths"]["/api/auth/login/"]["post"]["responses"]
    # The token endpoints are not throttled (the lockout guards login), so no 429 there.
    assert "429" not in schema["paths"]["/api/auth/refresh/"]["post"]["responses"]
    # Anonymous operations cannot answer 401 for missing credentials... except login's
    # own wrong-password 401, which it declares.
    assert "401" in schema["paths"]["/api/auth/login/"]["post"]["responses"]


def test_a_views_own_declaration_wins(schema):
    upload = schema["paths"]["/api/claims/{id}/documents/"]["post"]["responses"]
    assert "DOCUMENT_MAX_BYTES" in upload["413"]["description"]
    assert "application/json" in upload["413"]["content"]


def test_error_schemas_match_the_bodies(schema, staff_client, db):
    from jsonschema import validate

    validation = _resolve(schema, "ValidationError")
    detail = _resolve(schema, "ErrorDetail")
    conflict = _resolve(schema, "ConflictError")
    validate(staff_client.get("/api/claims?status=nope").json(), validation)
    validate(staff_client.post("/api/customers", {}, format="json").json(), validation)
    validate(staff_client.get("/api/claims?search=a%00b").json(), validation)
    validate(staff_client.get("/api/claims/00000000-0000-0000-0000-000000000000").json(),
             detail)
    from rest_framework.test import APIClient

    validate(APIClient().get("/api/claims").json(), detail)
    claim = ClaimFactory()
    body = staff_client.patch(f"/api/claims/{claim.pk}", {"status": "approved"},
                              format="json").json()
    validate(body, conflict)
    assert body["allowed"]


# --- filters refuse what their schema does not allow -------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("query, param", [
    ("/api/claims?status=", "status"),
    ("/api/claims?status=bogus", "status"),
    ("/api/claims?status=pending&status=", "status"),
    ("/api/claims?policy_id=", "policy_id"),
    ("/api/claims?policy_id=not-a-uuid", "policy_id"),
    ("/api/claims?claim_type=", "claim_type"),
    ("/api/policies?customer_id=", "customer_id"),
    ("/api/policies?customer_id=123", "customer_id"),
    ("/api/policies?policy_type=boat", "policy_type"),
    ("/api/policies?status=%20", "status"),
    ("/api/audit-logs?resource_type=", "resource_type"),
    ("/api/audit-logs?resource_type=spaceship", "resource_type"),
    ("/api/customers?page_size=", "page_size"),
    ("/api/customers?page_size=abc", "page_size"),
    ("/api/customers?page_size=0", "page_size"),
    ("/api/customers?page_size=-1", "page_size"),
    ("/api/customers?page_size=101", "page_size"),
    ("/api/customers?page_size=1.5", "page_size"),
    ("/api/customers?page_size=%D9%A3", "page_size"),  # an Arabic-Indic three
    ("/api/customers?page=", "page"),
    ("/api/customers?page=0", "page"),
    ("/api/customers?page=last", "page"),
    ("/api/customers?page=x", "page"),
    ("/api/customers?ordering=password", "ordering"),
    ("/api/customers?ordering=last_name,", "ordering"),
    ("/api/claims?ordering=-nope", "ordering"),
])
def test_out_of_schema_filter_values_are_400_naming_the_parameter(staff_client, query,
                                                                  param):
    r = staff_client.get(query)
    assert r.status_code == 400, (query, r.json())
    assert param in r.json(), r.json()


@pytest.mark.django_db
def test_valid_filters_and_free_text_blanks_still_filter(staff_client, broker_client, agency):
    customer = CustomerFactory(broker=agency)
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy)
    ClaimFactory()
    r = staff_client.get(f"/api/claims?status=pending&policy_id={policy.pk}")
    assert r.status_code == 200 and [c["id"] for c in r.json()["results"]] == [str(claim.pk)]
    # Free text: empty means no filter, as its schema (a plain string) allows.
    assert staff_client.get("/api/claims?search=").json()["count"] == 2
    assert staff_client.get("/api/audit-logs?actor=&resource_id=").status_code == 200
    # An empty ordering is no ordering; a valid one orders.
    assert staff_client.get("/api/customers?ordering=").status_code == 200
    r = staff_client.get("/api/customers?ordering=-last_name,first_name&page=1&page_size=1")
    assert r.status_code == 200 and len(r.json()["results"]) == 1
    assert broker_client.get(f"/api/policies?customer_id={customer.pk}&status=active"
                             ).status_code == 200


@pytest.mark.django_db
def test_a_page_past_the_last_is_a_json_404(staff_client):
    r = staff_client.get("/api/customers?page=99")
    assert r.status_code == 404 and "detail" in r.json()


def test_the_schema_declares_the_filter_formats(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/claims/"]["get"]["parameters"]}
    assert params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert params["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert params["policy_id"]["schema"]["format"] == "uuid"
    assert "pending" in params["status"]["schema"]["enum"]
    ordering = params["ordering"]
    assert ordering["explode"] is False and "-created_at" in ordering["schema"]["items"]["enum"]


# --- unknown API paths, and the schema in a browser ---------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_unknown_api_paths_are_json_404_for_every_method(staff_client, method):
    for path in ("/api/nowhere", "/api/customers/not-a-uuid", "/api/claims/%C2%84/"):
        r = getattr(staff_client, method)(path)
        assert r.status_code == 404, (method, path)
        assert r["Content-Type"] == "application/json" and r.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_schema_in_a_browser_goes_to_the_docs(client):
    r = client.get("/api/schema", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 302 and r["Location"].rstrip("/").endswith("/api/docs")


@pytest.mark.django_db
def test_schema_for_programs_is_served_inline(client):
    r = client.get("/api/schema", HTTP_ACCEPT="*/*")
    assert r.status_code == 200 and r["Content-Disposition"] == "inline"
    assert yaml.safe_load(r.content)["openapi"].startswith("3.")
    r = client.get("/api/schema?format=json",
                   HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 200 and r["Content-Disposition"] == "inline"
    assert r.json()["paths"]
    r = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and r.json()["paths"]
