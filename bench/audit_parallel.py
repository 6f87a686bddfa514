"""Audited writes in parallel, and customer + policy creations through the API.

Usage (PostgreSQL; makes and drops its own database):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python \
        bench/audit_parallel.py [--writers 16] [--processes 2] [--writes 100] [--api 50]

1. `--writers` writers each make `--writes` writes, one transaction each, as the
   services do (`transaction.atomic()` around the save). Each writer is a process of
   its own, or with `--processes N` the writers are threads spread over N processes
   (the shape of the web service: WEB_CONCURRENCY processes, concurrent requests
   in each); every writer has its own connection either way:
     --kind customer   a customer saved: the row and its auditlog entry (the default)
     --kind entry      the audit append alone (one explicit entry)
     --kind unaudited  the same customer save with the audit trail switched off
     --kind bare       one raw INSERT of a row the size of an entry, no ORM: the ceiling
                       of 16 committing writers on this machine
   Entries are sealed into the hash chain by the sequencer (compliance.sequencer);
   while the writers run, the oldest unsealed entry's age is sampled (the seal lag).
   `AUDIT_SEAL_AT_WRITE=1` measures the oldest way (head locked until commit).
2. The project's web process (the Procfile's uvicorn, 2 workers) on a free port:
   `--api` clients at once each create a customer then a policy for it: wall time.
Then the chain is verified and no entry is left unsealed.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("THROTTLE_USER", "1000000/second")
os.environ.setdefault("DB_POOL_MAX", "40")  # one connection per writer thread
if "FIELD_ENCRYPTION_KEYS" not in os.environ:
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--writes", type=int, default=100)
    ap.add_argument("--processes", type=int, default=0,
                    help="processes the writers run in, as threads (default: one each)")
    ap.add_argument("--api", type=int, default=50)
    ap.add_argument("--warm", type=int, default=6,
                    help="customer + policy creations before the API burst (0: a cold server)")
    ap.add_argument("--kind", default="customer",
                    help="customer, entry, unaudited or bare; several comma-separated run "
                         "one after the other on the same database")
    args = ap.parse_args()
    import django
    from django.conf import settings

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    if not settings.IS_POSTGRES:
        sys.exit("bench/audit_parallel.py needs DATABASE_URL pointing at PostgreSQL")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        for run, kind in enumerate(args.kind.split(",") if args.writers else ()):
            if kind not in KINDS:
                sys.exit(f"--kind: one of {', '.join(KINDS)}")
            _writes(args, kind, run)
        if args.api:
            _api(args, settings.DATABASES["default"]["NAME"])
        from compliance import chain

        report = chain.verify()
        state = chain.unsealed_status()
        print(f"chain: {report.checked} entries, ok={report.ok}; unsealed now {state.count}")
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0)


def _backend_cpu(pids) -> dict[int, float]:
    """CPU seconds used so far by these PostgreSQL backends (same machine)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _writer(first, threads, writes, agency_id, db_name, start, kind, cpu):
    """One writer process running `threads` writers (writer numbers first, first + 1,
    ...): each its own thread and connection, one transaction per audited save."""
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["NAME"] = db_name
    from auditlog.context import disable_auditlog
    from django.db import connection, transaction

    from accounts.models import Agency
    from compliance import audit
    from compliance.models import AuditEntry
    from customers.models import Customer

    ready, go, ended = threading.Barrier(threads + 1), threading.Event(), []

    def write(n):
        agency = Agency.objects.get(pk=agency_id)  # connect before the start signal
        ready.wait()
        go.wait()
        for i in range(writes):
            with transaction.atomic():
                if kind == "entry":  # the audit append alone: one explicit entry
                    audit.record(instance=agency, action=AuditEntry.Action.ACCESS,
                                 data={"writer": n, "i": i})
                elif kind == "bare":  # the ceiling: one INSERT, one commit, no ORM
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO bench_bare (writer, i, payload) "
                                       "VALUES (%s, %s, %s)", [n, i, '{"k": "v"}'])
                elif kind == "unaudited":  # the same save without the audit trail
                    with disable_auditlog():
                        Customer(email=f"u{n}-{i}@example.test", first_name="F",
                                 last_name="L", broker=agency).save()
                else:  # a customer saved: the row and its auditlog entry
                    Customer(email=f"w{n}-{i}-{kind}@example.test", first_name="F",
                             last_name="L", broker=agency).save()
        ended.append(time.time())
        connection.close()

    workers = [threading.Thread(target=write, args=(first + t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    start.wait()  # every process's writers connected, then all at once
    t0 = time.process_time()  # this process's CPU, its sequencer thread included
    go.set()
    for worker in workers:
        worker.join()
    # This process's CPU, and when its last write committed (wall clock, comparable
    # across processes): the run ends then, not when 16 interpreters have shut down.
    cpu.put((time.process_time() - t0, max(ended)))


KINDS = ("customer", "entry", "unaudited", "bare")


def _writes(args, kind, run=0):
    import multiprocessing

    from django.conf import settings
    from django.db import connection

    from accounts.models import Agency
    from compliance import chain
    from compliance.models import AuditEntry

    agency = Agency.objects.create(name=f"Bench {kind} {run}")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, "
                       "writer int, i int, payload jsonb, at timestamptz DEFAULT now())")
    before = AuditEntry.objects.count()
    ctx = multiprocessing.get_context("spawn")
    processes = args.processes or args.writers
    if args.writers % processes:
        sys.exit("--processes must divide --writers")
    threads = args.writers // processes
    start = ctx.Barrier(processes + 1)  # every writer connected, then all at once
    cpu = ctx.Queue()
    db_name = settings.DATABASES["default"]["NAME"]
    procs = [ctx.Process(target=_writer, args=(p * threads, threads, args.writes, agency.pk,
                                                 db_name, start, kind, cpu))
             for p in range(processes)]
    for p in procs:
        p.start()

    def backends():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                           "AND pid <> pg_backend_pid()", [db_name])
            return _backend_cpu(row[0] for row in cursor.fetchall())

    start.wait()
    t0 = time.perf_counter()
    began = time.time()
    first = backends()
    last = dict(first)
    lag, backlog = 0.0, 0
    while any(p.is_alive() for p in procs):  # sample the seal lag and the backends' CPU
        state = chain.unsealed_status()
        lag, backlog = max(lag, state.oldest_seconds), max(backlog, state.count)
        for pid, used in backends().items():
            first.setdefault(pid, 0.0)  # a connection opened during the run
            last[pid] = used
        time.sleep(0.05)
    for p in procs:
        p.join()
    reports = [cpu.get() for _ in procs]
    client_cpu = sum(used for used, _ in reports)
    # From the start signal to the last writer's last commit.
    elapsed = max((ended for _, ended in reports), default=began) - began
    exited = time.perf_counter() - t0
    server_cpu = sum(last[pid] - first[pid] for pid in last)
    drained = time.perf_counter()
    while chain.unsealed_status().count and time.perf_counter() - drained < 30:
        time.sleep(0.01)
    drained = time.perf_counter() - drained
    connection.close()
    made = AuditEntry.objects.count() - before
    writes = args.writers * args.writes
    failed = sum(1 for p in procs if p.exitcode)
    mode = "sealed at write (lock held to commit)" if settings.AUDIT_SEAL_AT_WRITE else \
        "sealed by the sequencer"
    shape = (f"{args.writers} writer processes" if threads == 1 else
             f"{args.writers} writers ({processes} processes x {threads} threads)")
    print(f"{shape} x {args.writes} {kind} writes, {mode}: "
          f"{writes} writes ({made} entries) in {elapsed:.2f}s = {writes / elapsed:,.0f} "
          f"writes/s (the writer processes had all exited {exited:.2f}s after the start); "
          f"failed writers {failed}")
    per_write = (client_cpu + server_cpu) / writes
    print(f"  CPU per write: writers {client_cpu / writes * 1000:.2f} ms + PostgreSQL "
          f"{server_cpu / writes * 1000:.2f} ms = {per_write * 1000:.2f} ms; "
          f"{os.cpu_count()} cores at 100% would make {os.cpu_count() / per_write:,.0f} writes/s")
    if made:
        print(f"  seal lag: oldest unsealed entry seen {lag * 1000:.0f} ms, most unsealed "
              f"at once {backlog}; all sealed {drained * 1000:.0f} ms after the last writer")


def _tree(pid) -> list[int]:
    """A process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return found


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "X-Forwarded-Proto": "https",
        **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def _api(args, db_name):
    from django.db import connection

    from accounts.models import Agency, User

    agency = Agency.objects.create(name="Bench API")
    password = "Bench!Passw0rd-2026"
    user = User.objects.create_user(email="bench.broker@example.test", password=password,
                                    role="broker", agency=agency)
    assert user.pk
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2",
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name}
    web = next(line[4:].strip() for line in (ROOT / "Procfile").read_text().splitlines()
               if line.startswith("web:"))
    web = web.split("&&", 1)[-1].strip().replace("0.0.0.0", "127.0.0.1")
    server = subprocess.Popen(["bash", "-c", f"exec {ROOT}/.venv/bin/{web}"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _http("GET", base + "/health/live")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        _, body = _http("POST", base + "/api/auth/login",
                        body={"email": "bench.broker@example.test", "password": password})
        token = body["access_token"]
        def create(n):
            _, customer = _http("POST", base + "/api/customers", token, {
                "email": f"api{n}@example.test", "first_name": "A", "last_name": str(n),
                "gdpr_consent": True})
            _http("POST", base + "/api/policies", token, {
                "customer_id": customer["id"], "policy_type": "auto",
                "premium_amount": "500.00", "coverage_amount": "10000.00",
                "start_date": "2026-01-01", "end_date": "2026-12-31"})

        # A running service, not a cold one: each worker's connections, and the
        # creation paths' first-use costs (imports, serializer and rating set-up,
        # ~50 ms of CPU per worker), are paid before the clock starts.
        for n in range(args.warm):
            create(f"warm{n}")
        barrier = threading.Barrier(args.api + 1)
        errors, done = [], []

        def client(n):
            try:
                barrier.wait()
                create(n)
                done.append(n)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.api)]
        for t in threads:
            t.start()

        def server_cpu():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                               "AND pid <> pg_backend_pid()", [db_name])
                backends = _backend_cpu(row[0] for row in cursor.fetchall())
            return sum(_backend_cpu(_tree(server.pid)).values()), backends

        web0, db0 = server_cpu()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        web1, db1 = server_cpu()
        requests = 2 * args.api
        db = sum(used - db0.get(pid, 0.0) for pid, used in db1.items())
        print(f"{args.api} concurrent customer + policy creations through the API "
              f"(uvicorn, 2 workers): {elapsed:.2f}s wall; ok {len(done)}, errors {len(errors)}")
        print(f"  CPU per request: web processes {(web1 - web0) / requests * 1000:.1f} ms + "
              f"PostgreSQL {db / requests * 1000:.1f} ms")
        if errors:
            print("  first error:", repr(errors[0]))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
