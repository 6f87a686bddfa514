"""Live claim status at fan-out: many WebSocket subscribers across web processes.

Usage (on the perf harness's database and Redis db, after ../shared/perf/p1.sh has
seeded it; starts the Procfile's web process itself on port 8850):
    source ../shared/perf/env.sh && export BROKER_EMAIL BROKER_PASSWORD && \
        $VENV/bin/python bench/ws_fanout.py \
        [--subscribers 500] [--claims 10] [--workers 2] [--connecting 50]

Every subscriber connects (`/ws/claims/?token=`; at most `--connecting` sockets
opening at once), spread by the kernel over the worker processes, and subscribes to
the same `--claims` new claims; then a staff
user moves each claim pending -> processing -> approved through `PATCH /api/claims/{id}`
(2 x claims status changes, each delivered to every subscriber: 500 x 20 = 10,000
events). Latency is from the PATCH's response to each event's arrival; it prints
p50/p99, events lost and the server's CPU seconds.
"""

import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
PORT = 8850
BASE = f"http://127.0.0.1:{PORT}"
SERVER_LOG = "/tmp/ws_fanout-server.log"


def http(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          "X-Forwarded-Proto": "https",
                                          **({"Authorization": f"Bearer {token}"}
                                             if token else {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def login(email, password):
    return http("POST", "/api/auth/login", body={"email": email, "password": password})[
        "access_token"]


def server_cpu(proc):
    parent = psutil.Process(proc.pid)
    total = 0.0
    for p in [parent, *parent.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def server_warnings() -> str:
    """The server's warnings and errors during the run, by event (a lost event says why)."""
    found: dict[str, int] = {}
    for line in Path(SERVER_LOG).read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in ("WARNING", "ERROR"):
            key = record.get("event") or record.get("message", "?")
            found[key] = found.get(key, 0) + 1
    return ", ".join(f"{key} x{n}" for key, n in sorted(found.items())) or "none"


def ended_reason(ended) -> str:
    return repr(next(result for result in ended if result is not None))[:200]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=500)
    ap.add_argument("--claims", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connecting", type=int, default=50,
                    help="sockets opening and subscribing at once (the set-up, not measured)")
    args = ap.parse_args()
    staff_email, password = "perf.staff@demo.example", "Perf!Staff2026x"
    subprocess.run([sys.executable, "manage.py", "create_user", "--email", staff_email,
                    "--password", password, "--role", "staff"], cwd=ROOT,
                   capture_output=True)
    web = next(line[4:].strip() for line in (ROOT / "Procfile").read_text().splitlines()
               if line.startswith("web:")).split("&&", 1)[-1].strip()
    env = {**os.environ, "PORT": str(PORT), "WEB_CONCURRENCY": str(args.workers)}
    server = subprocess.Popen(["bash", "-c", f"exec {Path(sys.executable).parent}/{web}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(SERVER_LOG, "w"),  # noqa: SIM115
                              start_new_session=True)
    try:
        for _ in range(900):
            try:
                http("GET", "/health/live")
                break
            except OSError:
                await asyncio.sleep(0.2)
        broker = login(os.environ["BROKER_EMAIL"], os.environ["BROKER_PASSWORD"])
        staff = login(staff_email, password)
        policy = next(p for p in http("GET", "/api/policies?page_size=100", broker)["results"]
                      if p["status"] == "active")
        day = (datetime.date.fromisoformat(policy["start_date"]) + datetime.timedelta(days=1))
        claims = [http("POST", "/api/claims", broker, {
            "policy_id": policy["id"], "claim_type": "accident", "claim_amount": "100.00",
            "incident_date": min(day, datetime.date.today()).isoformat()})["id"]
            for _ in range(args.claims)]
        arrivals: dict[tuple, float] = {}
        ready, measuring, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
        subscribed = done_receiving = 0

        opening = asyncio.Semaphore(args.connecting)

        async def subscriber(n):
            nonlocal subscribed, done_receiving
            await opening.acquire()  # sockets open a few at a time, not in one burst
            async with websockets.connect(
                    f"ws://127.0.0.1:{PORT}/ws/claims/?token={broker}",
                    origin="http://127.0.0.1", max_queue=None, open_timeout=60) as ws:
                for claim_id in claims:
                    await ws.send(json.dumps({"type": "subscribe", "claim_id": claim_id}))
                for _ in claims:
                    assert json.loads(await ws.recv())["type"] == "subscribed"
                opening.release()
                subscribed += 1
                if subscribed == args.subscribers:
                    ready.set()
                await measuring.wait()  # the 30 s wait for each event starts with the changes
                expected = 2 * len(claims)
                got = 0
                try:
                    while got < expected:
                        event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if event.get("type") == "claim.status":
                            arrivals[(n, event["claim_id"], event["status"])] = \
                                time.perf_counter()
                            got += 1
                except TimeoutError:
                    pass
                # Stay open until every socket has had its events: a socket closing
                # while others still wait for theirs would put the closing handshakes
                # (client and server) in the way of the last change's delivery.
                done_receiving += 1
                if done_receiving == args.subscribers:
                    finished.set()
                await finished.wait()

        started = time.perf_counter()
        tasks = [asyncio.create_task(subscriber(n)) for n in range(args.subscribers)]
        await asyncio.wait_for(ready.wait(), 300)
        setup = time.perf_counter() - started
        cpu0 = server_cpu(server)
        measuring.set()
        sent: dict[tuple, float] = {}
        for claim_id in claims:
            for status in ("processing", "approved"):
                await asyncio.to_thread(http, "PATCH", f"/api/claims/{claim_id}", staff,
                                        {"status": status})
                sent[(claim_id, status)] = time.perf_counter()
                await asyncio.sleep(0.05)
        ended = await asyncio.gather(*tasks, return_exceptions=True)
        broken = sum(result is not None for result in ended)  # closed or failed sockets
        cpu = server_cpu(server) - cpu0
        latencies = sorted((arrivals[key] - sent[key[1:]]) * 1000 for key in arrivals
                           if key[1:] in sent)
        order = list(sent)  # the changes in the order they were made
        slowest: dict[tuple, float] = {}
        for key, arrived in arrivals.items():
            if key[1:] in sent:
                change = key[1:]
                slowest[change] = max(slowest.get(change, 0.0),
                                      (arrived - sent[change]) * 1000)
        worst = sorted(slowest.items(), key=lambda item: -item[1])[:3]
        expected = args.subscribers * len(sent)
        p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
        lost = expected - len(latencies)
        print(f"{args.subscribers} subscribers over {args.workers} processes, {len(sent)} "
              f"status changes: {len(latencies)}/{expected} events, lost {lost}; "
              f"PATCH response -> event p50 {statistics.median(latencies):.1f} ms, "
              f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms; server CPU {cpu:.2f}s "
              f"({cpu * 1000 / max(1, len(latencies)):.3f} ms per event delivered); "
              f"{args.subscribers} sockets opened and subscribed in {setup:.1f}s"
              + (f"; {broken} sockets failed ({ended_reason(ended)})" if broken else "")
              + "; slowest changes (their last event): "
              + ", ".join(f"#{order.index(change) + 1} {ms:.1f} ms" for change, ms in worst)
              + f"; server warnings: {server_warnings()}")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


if __name__ == "__main__":
    asyncio.run(main())
