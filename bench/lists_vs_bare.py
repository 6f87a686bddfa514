"""The project's hot lists against bare Django views of the same rows, CPU per request.

Usage (on the perf harness's database, after ../shared/perf/p1.sh has seeded it):
    source ../shared/perf/env.sh && export BROKER_EMAIL BROKER_PASSWORD && \
        .venv/bin/python bench/lists_vs_bare.py [--n 300] [--rounds 3]

Each pair is served in this one process, one request at a time, with ASGI messages
(no network): the project through the web process's HTTP handler (config/http.py,
the whole middleware chain, DRF or the portal view), the bare view through the same
request/response plumbing with no middleware and a function that does only the
work the page needs: the same authentication check (JWT signature and user row, or
the session and user row), the broker's rows by the agency key, the count, one page
of `.values()` (and the page's claim documents), JSON by `json.dumps` or an HTML
table by string formatting. Pages are 25 rows, newest first (customers by name).
Prints CPU milliseconds per request of each and the ratio bare/project (1.0: the
project costs no more than the bare view; 0.5: twice as much).
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from asgi_cpu import call  # noqa: E402

PAGE = 25


def _iso(value):
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return _iso(value)
    return str(value)


def bare_views():
    """The bare views, built after django.setup()."""
    import jwt
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse

    from accounts.models import User
    from claims.api import CLAIM_ROWS, DOCUMENT_ROWS
    from claims.models import Claim
    from customers.api import CustomerViewSet
    from customers.models import Customer
    from documents.models import Document
    from policies.api import PolicyViewSet
    from policies.models import Policy

    def api_user(request):
        payload = jwt.decode(request.headers["Authorization"][7:],
                             settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"],
                             options={"require": ["exp"]})
        return User.objects.filter(pk=uuid.UUID(payload["user_id"]), is_active=True).values(
            "agency_id").get()

    def portal_user(request):
        session = SessionStore(request.COOKIES[settings.SESSION_COOKIE_NAME])
        return User.objects.filter(pk=session["_auth_user_id"], is_active=True).values(
            "agency_id").get()

    def json_page(rows, count):
        return HttpResponse(json.dumps({"count": count, "next": None, "previous": None,
                                        "results": rows}, separators=(",", ":"),
                                       ensure_ascii=False), content_type="application/json")

    def api_list(model, columns, order, extra=None):
        def view(request):
            user = api_user(request)
            rows = model.objects.filter(agency_id=user["agency_id"]) if model is not Customer \
                else model.objects.filter(broker_id=user["agency_id"])
            count = rows.count()
            page = list(rows.order_by(*order).values(*columns)[:PAGE])
            out = [{k: _plain(v) for k, v in row.items()} for row in page]
            if extra:
                extra(page, out)
            return json_page(out, count)
        return view

    def claim_documents(page, out):
        docs = {}
        for d in Document.objects.filter(claim_id__in=[r["id"] for r in page]).values(
                "claim_id", *[c for c in DOCUMENT_ROWS.columns if c != "claim_id"]):
            docs.setdefault(d["claim_id"], []).append(
                {**{k: _plain(v) for k, v in d.items() if k != "claim_id"},
                 "download_url": f"/api/documents/{d['id']}/download"})
        for row, item in zip(page, out, strict=True):
            item["documents"] = docs.get(row["id"], [])

    def html_page(title, headers, rows, count):
        body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in rows)
        head = "".join(f"<th>{h}</th>" for h in headers)
        return HttpResponse(f"<!doctype html><title>{title}</title><p>{count} found</p>"
                            f"<table><tr>{head}</tr>{body}</table>")

    def portal_claims(request):
        user = portal_user(request)
        rows = Claim.objects.filter(agency_id=user["agency_id"])
        count = rows.count()
        page = rows.order_by("-created_at", "-id").values_list(
            "claim_number", "policy__customer__first_name", "policy__customer__last_name",
            "policy__policy_number", "claim_type", "incident_date", "claim_amount",
            "status")[:PAGE]
        return html_page("Claims", ["Claim", "First", "Last", "Policy", "Type", "Incident",
                                    "Amount", "Status"], page, count)

    def portal_customers(request):
        user = portal_user(request)
        rows = Customer.objects.filter(broker_id=user["agency_id"])
        count = rows.count()
        page = rows.order_by("last_name", "first_name", "id").values_list(
            "first_name", "last_name", "email", "phone")[:PAGE]
        return html_page("Customers", ["First", "Last", "Email", "Phone"], page, count)

    return {
        "/api/claims": api_list(Claim, CLAIM_ROWS.columns, ("-created_at", "-id"),
                                claim_documents),
        "/api/customers": api_list(Customer, CustomerViewSet.lean_rows.columns,
                                   ("-created_at", "-id")),
        "/api/policies": api_list(Policy, PolicyViewSet.lean_rows.columns,
                                  ("-created_at", "-id")),
        "/portal/claims/": portal_claims,
        "/portal/customers/": portal_customers,
    }


def handlers():
    from django.core.handlers.asgi import ASGIHandler

    from config.http import OneHopASGIHandler

    class Bare(OneHopASGIHandler):
        def __init__(self, views):
            ASGIHandler.__init__(self)  # no middleware
            self.views = views

        def get_response(self, request):
            return self.views[request.path](request)

    return OneHopASGIHandler(), Bare(bare_views())


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import django

    django.setup(set_prefix=False)
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    project, bare = handlers()
    email = os.environ.get("BROKER_EMAIL", "perf.broker@demo.example")
    base = {"host": "127.0.0.1", "x-forwarded-proto": "https"}
    status, body = await call(project, "POST", "/api/auth/login", {
        **base, "content-type": "application/json"}, json.dumps({
            "email": email, "password": os.environ.get("BROKER_PASSWORD",
                                                       "Perf!Broker2026x")}).encode())
    assert status == 200, (status, body[:300])
    api = {**base, "authorization": f"Bearer {json.loads(body)['access_token']}"}
    client = Client()
    await asyncio.to_thread(client.force_login, await asyncio.to_thread(
        User.objects.get, email=email))
    portal = {**base, "cookie": f"{settings.SESSION_COOKIE_NAME}="
                                f"{client.cookies[settings.SESSION_COOKIE_NAME].value}",
              "hx-request": "true"}
    pairs = [("/api/claims?page_size=25", "/api/claims", api),
             ("/api/customers?page_size=25", "/api/customers", api),
             ("/api/policies?page_size=25", "/api/policies", api),
             ("/portal/claims/", "/portal/claims/", portal),
             ("/portal/customers/", "/portal/customers/", portal)]

    async def cpu(app, path, headers):
        cpu0 = time.process_time()
        for _ in range(args.n):
            status, _ = await call(app, "GET", path, headers)
            assert status == 200, (path, status)
        return (time.process_time() - cpu0) / args.n * 1000

    print(f"{'list':28s} {'project ms':>10s} {'bare ms':>8s} {'bare/project':>12s}")
    for project_path, bare_path, headers in pairs:
        for _ in range(20):
            await call(project, "GET", project_path, headers)
            await call(bare, "GET", bare_path, headers)
        ours, floor = [], []
        for _ in range(args.rounds):
            ours.append(await cpu(project, project_path, headers))
            floor.append(await cpu(bare, bare_path, headers))
        ours, floor = statistics.median(ours), statistics.median(floor)
        print(f"{project_path:28s} {ours:10.2f} {floor:8.2f} {floor / ours:12.2f}")


if __name__ == "__main__":
    asyncio.run(main())
