"""What a Redis outage and a PostgreSQL restart cost clients under write load.

Usage (needs redis-server and the PostgreSQL server binaries; uses nothing shared):
    .venv/bin/python bench/outages.py [--workers 6] [--outage 5] [--after 10]

Starts its own PostgreSQL cluster and redis-server on free ports, migrates, serves
them with one daphne process, and keeps creating customers through the API from
`--workers` clients. First Redis is stopped for `--outage` seconds and started
again; then PostgreSQL is. For each outage it prints the requests made, how many
answered 2xx, 503 and any other 5xx, and the seconds from the service being back
to the first request that succeeded. Every acknowledged customer is checked to be
in the database at the end.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ops.outage import (  # noqa: E402
    Browser,
    PostgresCluster,
    RedisServer,
    ServerProcess,
    WriteLoad,
    manage,
    server_env,
)

EMAIL, PASSWORD = "bench-broker@example.test", "Str0ng!Passw0rd"


def _phase(name, server, token, args, stop, start):
    load = WriteLoad(server.url, token, workers=args.workers, tag=name).start()
    time.sleep(args.before)
    outage_started = time.monotonic()
    stop()
    time.sleep(args.outage)
    start()
    back = time.monotonic()
    time.sleep(args.after)
    load.stop()
    return load, load.summary(outage_started, back)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--before", type=float, default=3.0)
    parser.add_argument("--outage", type=float, default=5.0)
    parser.add_argument("--after", type=float, default=10.0)
    args = parser.parse_args()

    os.environ.pop("DATABASE_URL", None)
    cluster = PostgresCluster()
    redis = RedisServer()
    work = Path(tempfile.mkdtemp(prefix="ibo-bench-outages-"))
    server = None
    try:
        env = server_env(DATABASE_URL=cluster.url, REDIS_URL=redis.url,
                         MEDIA_ROOT=str(work / "media"), STATIC_ROOT=str(work / "static"))
        for command in (("migrate", "--noinput"),
                        ("create_user", "--email", EMAIL, "--password", PASSWORD,
                         "--role", "broker", "--broker", "Bench Agency")):
            done = manage(env, *command)
            if done.returncode:
                sys.exit(done.stdout + done.stderr)
        server = ServerProcess(env, work / "server.log")
        status, _, body = Browser(server.url).request(
            "POST", "/api/auth/login", json_body={"email": EMAIL, "password": PASSWORD})
        if status != 200:
            sys.exit(f"login failed: {status} {body!r}")
        token = json.loads(body)["access_token"]

        loads = []
        print(f"{args.workers} clients creating customers; {args.outage:g}s outage each, "
              f"DB_POOL_TIMEOUT={env.get('DB_POOL_TIMEOUT', '10 (default)')}")
        for name, stop, start in (
            ("redis", redis.stop, redis.start),
            ("postgres", lambda: cluster.stop("fast"), cluster.start),
        ):
            load, summary = _phase(name, server, token, args, stop, start)
            loads.append(load)
            print(f"{name:9s} " + "  ".join(f"{k}={v}" for k, v in summary.items()))

        import psycopg

        acknowledged = {created for load in loads for _, _, _, created in load.results
                        if created}
        with psycopg.connect(cluster.url) as conn:
            stored = {str(r[0]) for r in conn.execute("SELECT id FROM customers_customer")}
        print(f"acknowledged customers: {len(acknowledged)}; "
              f"missing from the database: {len(acknowledged - stored)}")
    finally:
        if server is not None:
            server.stop()
        redis.close()
        cluster.close()


if __name__ == "__main__":
    main()
