"""CPU per request of the ASGI application, in process, one request at a time.

Usage (on the perf harness's database, after ../shared/perf/p1.sh has seeded it):
    source ../shared/perf/env.sh && .venv/bin/python bench/asgi_cpu.py [--n 300] \
        [--path '/api/claims?page_size=25'] [--handler onehop|django]

Drives `config.asgi.application` (or Django's stock ASGIHandler, `--handler django`)
with ASGI messages directly, no network, as the broker the harness logs in as, and
prints CPU milliseconds (all threads of the process) and wall milliseconds per request.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


async def call(app, method, path, headers, body=b""):
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": raw_path,
             "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in
                         {**headers, "content-length": str(len(body))}.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    out = []

    async def receive():
        if sent:
            return sent.pop()
        await asyncio.sleep(3600)

    async def send(message):
        out.append(message)

    await app(scope, receive, send)
    status = out[0]["status"]
    content = b"".join(m.get("body", b"") for m in out[1:])
    return status, content


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--path", default="/api/claims?page_size=25")
    ap.add_argument("--handler", default="onehop", choices=("onehop", "django"))
    args = ap.parse_args()
    import django

    django.setup(set_prefix=False)
    if args.handler == "django":
        from django.core.handlers.asgi import ASGIHandler
        app = ASGIHandler()
    else:
        from config.http import OneHopASGIHandler
        app = OneHopASGIHandler()
    base = {"host": "127.0.0.1", "x-forwarded-proto": "https"}
    status, body = await call(app, "POST", "/api/auth/login", {
        **base, "content-type": "application/json"}, json.dumps({
            "email": os.environ.get("BROKER_EMAIL", "perf.broker@demo.example"),
            "password": os.environ.get("BROKER_PASSWORD", "Perf!Broker2026x")}).encode())
    assert status == 200, (status, body[:300])
    token = json.loads(body)["access_token"]
    headers = {**base, "authorization": f"Bearer {token}"}
    for _ in range(20):
        await call(app, "GET", args.path, headers)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.n):
        status, body = await call(app, "GET", args.path, headers)
        assert status == 200, status
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{args.handler:7s} {args.path}: {cpu / args.n * 1000:.2f} CPU ms/request, "
          f"{wall / args.n * 1000:.2f} wall ms/request, {len(body)} bytes")


if __name__ == "__main__":
    asyncio.run(main())
