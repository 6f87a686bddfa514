"""Does a request cost the same on a big book as on a small one? (P3)

Measures every API list and detail endpoint (as a broker and as staff), the broker
portal's pages and every admin changelist with one change page each, on a database
already loaded by ``seed_demo``; run it on a small and on a big book, then compare:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_10k \
        .venv/bin/python bench/book_scale.py --password P --out /tmp/10k.json
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_1m \
        .venv/bin/python bench/book_scale.py --password P --out /tmp/1m.json
    .venv/bin/python bench/book_scale.py --compare /tmp/10k.json /tmp/1m.json

Requests go through Django's test client, in process (no network, no server in
between: what is measured is the project's own work and its queries). The API is
called with a JWT as integrators do, the portal and the admin with a session
(seed_demo's broker and staff logins). Each request is sent ``--warmup`` times, then
``--repeat`` times measured; p50 / p95 in milliseconds and the queries of the last
request are printed. Rows are picked in the seeded broker's agency (its first rows in
list order that have what the page shows), so both books are asked the same thing.
Nothing here asserts a timing.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("THROTTLE_USER", "1000000/second")

LIMIT = 1.2  # the p95 on the big book may be at most this many times the small one's


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--password", help="the demo logins' password (as seeded)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="",
                        help="run only these cases: a whole key as the table prints it "
                             "('staff /admin/') or part of a path ('/admin/'); several "
                             "separated by '|'")
    parser.add_argument("--out", help="write the figures as JSON here")
    parser.add_argument("--compare", nargs=2, metavar=("SMALL[,SMALL2…]", "BIG[,BIG2…]"),
                        help="print the p95 ratio table of two --out files")
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    if not args.password:
        sys.exit("--password: the demo logins' password, as given to seed_demo")
    results = measure(args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


def measure(args) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries

    if not settings.IS_POSTGRES:
        sys.exit("bench/book_scale.py needs DATABASE_URL pointing at a seeded PostgreSQL")
    settings.DEBUG = False

    cases = _cases(args.password)
    customers = _estimate("customers_customer")
    print(f"book: ~{customers:,} customers (statistics); {args.warmup} warm-up + "
          f"{args.repeat} measured requests each, in process (Django test client)")
    print(f"{'who':7} {'request':70} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7}")
    out = {"customers": customers, "repeat": args.repeat, "cases": {}}
    for who, client, path, label in cases:
        if args.only and not _chosen(f"{who} {label}", args.only):
            continue
        for _ in range(args.warmup):
            r = client.get(path)
            if r.status_code != 200:
                print(f"{who:7} {label:70} status {r.status_code}: skipped")
                break
        else:
            times = []
            for n in range(args.repeat):
                if n == args.repeat - 1:
                    connection.force_debug_cursor = True
                    reset_queries()
                t = time.perf_counter()
                r = client.get(path)
                if hasattr(r, "streaming_content"):
                    b"".join(r.streaming_content)
                times.append((time.perf_counter() - t) * 1000)
            connection.force_debug_cursor = False
            queries = len(connection.queries)
            times.sort()
            p50 = statistics.median(times)
            p95 = times[max(0, round(len(times) * 0.95) - 1)]
            key = f"{who} {label}"
            out["cases"][key] = {"p50": p50, "p95": p95, "queries": queries}
            print(f"{who:7} {label:70} {p50:8.1f} {p95:8.1f} {queries:7d}", flush=True)
    return out


def _estimate(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


_IDS: dict[str, str] = {}


def _label(path: str) -> str:
    """The path with its ids named, so both books' cases line up."""
    for name, value in _IDS.items():
        if len(value) > 8:  # uuids; a small integer id would match inside other numbers
            path = path.replace(value, "{" + name + "}")
        elif path.endswith(f"/{value}/change/"):
            path = path[: -len(f"{value}/change/")] + "{" + name + "}/change/"
    return path


def _cases(password):
    from django.contrib import admin
    from django.test import Client
    from django.urls import reverse
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from claims.models import Claim, ClaimApproval, ClaimPayment
    from compliance.models import AuditEntry
    from customers.models import Customer
    from demo.book import BROKER_EMAIL, STAFF_EMAIL
    from documents.models import Document
    from policies.models import Endorsement, Policy, Quote

    broker = User.objects.get(email=BROKER_EMAIL)
    staff = User.objects.get(email=STAFF_EMAIL)
    agency = broker.agency_id

    # The broker's rows: a claim with documents (so its policy and customer have a
    # claim, a policy and a document to show), a quote, an endorsed policy.
    doc = Document.objects.filter(agency_id=agency).order_by("-uploaded_at", "-id").first()
    claim = Claim.objects.get(pk=doc.claim_id)
    policy = Policy.objects.get(pk=claim.policy_id)
    customer = Customer.objects.get(pk=policy.customer_id)
    quote = Quote.objects.filter(agency_id=agency).order_by("-created_at", "-id").first()
    endorsed = Endorsement.objects.filter(policy__agency_id=agency).order_by("-created_at").first()
    handled = ClaimPayment.objects.order_by("-created_at").first()
    approval = ClaimApproval.objects.order_by("-created_at").first()
    entry = AuditEntry.objects.order_by("-seq").first()
    _IDS.update({"customer": str(customer.pk), "policy": str(policy.pk),
                 "claim": str(claim.pk), "document": str(doc.pk), "quote": str(quote.pk),
                 "endorsed": str(endorsed.policy_id), "handled": str(handled.claim_id),
                 "approval": str(approval.pk), "entry": str(entry.pk)})

    def api(user):
        c = Client()
        c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {RefreshToken.for_user(user).access_token}"
        return c

    def session(user):
        c = Client()
        assert c.login(email=user.email, password=password), f"{user.email}: wrong password"
        return c

    b_api, s_api, b_web, s_web = api(broker), api(staff), session(broker), session(staff)
    cases = []
    for who, c in (("broker", b_api), ("staff", s_api)):
        cases += [(who, c, p) for p in (
            "/api/auth/me",
            "/api/customers?page_size=25",
            "/api/customers?page_size=100",
            f"/api/customers/{customer.pk}",
            "/api/policies?page_size=25",
            "/api/policies?page_size=25&status=active",
            f"/api/policies?customer_id={customer.pk}",
            f"/api/policies/{policy.pk}",
            f"/api/policies/{endorsed.policy_id}/endorsements",
            "/api/policies/summary",
            "/api/quotes?page_size=25",
            f"/api/quotes/{quote.pk}",
            "/api/claims?page_size=25",
            "/api/claims?page_size=25&status=pending",
            f"/api/claims?policy_id={policy.pk}",
            f"/api/claims/{claim.pk}",
            f"/api/claims/{claim.pk}/notes",
            f"/api/claims/{claim.pk}/financials",
            f"/api/claims/{claim.pk}/documents",
            f"/api/documents/{doc.pk}",
            "/api/webhooks",
        )]
    cases += [("staff", s_api, p) for p in (
        "/api/claims?page_size=25&assignee=none",
        "/api/claims?page_size=25&overdue=true",
        f"/api/claims/{handled.claim_id}/financials",
        "/api/approvals?status=pending",
        "/api/audit-logs?page_size=25",
        f"/api/audit-logs?resource_type=claim&resource_id={handled.claim_id}",
    )]
    cases += [("broker", b_web, p) for p in (
        "/portal/",
        "/portal/customers/",
        f"/portal/customers/{customer.pk}/",
        f"/portal/policies/{policy.pk}/",
        "/portal/claims/",
        f"/portal/claims/{claim.pk}/",
        f"/portal/quotes/{quote.pk}/",
        f"/portal/customers/{customer.pk}/quotes/new/",
        "/portal/settings/notifications/",
    )]

    # Every changelist staff may open, and the page of its first row.
    picks = {Customer: customer.pk, Policy: policy.pk, Claim: claim.pk, Document: doc.pk,
             Quote: quote.pk, ClaimApproval: approval.pk, AuditEntry: entry.pk}
    cases.append(("staff", s_web, "/admin/"))
    for model in sorted(admin.site._registry,
                        key=lambda m: m._meta.label):
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except Exception:  # noqa: BLE001 - not a list
            continue
        cases.append(("staff", s_web, url))
        pk = picks.get(model)
        if pk is None:
            row = model._default_manager.order_by("pk").first()
            pk = row.pk if row is not None else None
        if pk is not None:
            if model not in picks:
                _IDS[f"{opts.model_name}"] = str(pk)
            cases.append(("staff", s_web,
                          reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                                  args=[pk])))
    return [(who, c, path, _label(path)) for who, c, path in cases]


def _runs(files: str) -> dict:
    """One book's figures from one run, or from several (comma-separated files, runs
    taken in alternation with the other book's): each request's p95 is then the
    median of the runs' p95s, which one run's stray pause does not move."""
    runs = [json.loads(Path(name).read_text()) for name in files.split(",")]
    merged = {"customers": runs[0]["customers"], "cases": {}}
    for key, first in runs[0]["cases"].items():
        p95s = sorted(run["cases"][key]["p95"] for run in runs if key in run["cases"])
        merged["cases"][key] = {**first, "p95": statistics.median(p95s)}
    return merged


def _chosen(key: str, only: str) -> bool:
    """`--only`: a whole key as the table prints it ("staff /admin/"), or a part of one
    ("/admin/"); several separated by '|'."""
    parts = only.split("|")
    return key in parts or any(not part.startswith(("broker ", "staff ")) and part in key
                               for part in parts)


def compare(small_file: str, big_file: str) -> None:
    small = _runs(small_file)
    big = _runs(big_file)
    print(f"| request | p95 ms at {small['customers']:,} | p95 ms at {big['customers']:,} "
          f"| ratio | queries |")
    print("|---|---:|---:|---:|---|")
    worst = []
    for key, a in small["cases"].items():
        b = big["cases"].get(key)
        if b is None:
            continue
        ratio = b["p95"] / a["p95"] if a["p95"] else float("inf")
        flag = " **over**" if ratio > LIMIT else ""
        q = str(a["queries"]) if a["queries"] == b["queries"] else f"{a['queries']}→{b['queries']}"
        print(f"| `{key}` | {a['p95']:.1f} | {b['p95']:.1f} | {ratio:.2f}{flag} | {q} |")
        worst.append((ratio, key))
    worst.sort(reverse=True)
    over = [k for r, k in worst if r > LIMIT]
    print(f"\n{len(worst)} requests; worst ratio {worst[0][0]:.2f} ({worst[0][1]}); "
          f"{len(over)} above {LIMIT}")


if __name__ == "__main__":
    main()
