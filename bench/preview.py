"""How long a fresh preview environment takes to become ready, cold and from the
template, and how fast seed_demo loads a large book.

Usage (PostgreSQL server; makes and drops its own ibo_preview_bench* databases):
    PREVIEW_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/preview.py [--customers 200] [--big 100000] [--runs 3]

Prints, in seconds:
- cold: create an empty database, migrate, seed (--customers), serve until ready;
- template: clone the migrated, seeded template, serve until ready (template warm);
- seed_demo on --big customers into a freshly migrated database: wall time, rows,
  rows per second, and the command's own stage timings.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def server() -> str:
    url = os.environ.get("PREVIEW_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set PREVIEW_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server URL.")
    return url.rsplit("/", 1)[0]


def env() -> dict[str, str]:
    values = {**os.environ, "PREVIEW_DATABASE_URL": f"{server()}/postgres"}
    values.pop("DATABASE_URL", None)
    return values


def preview(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([PYTHON, str(ROOT / "manage.py"), "preview", *args], env=env(),
                          cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"preview {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return seconds, done.stdout


def stages(output: str) -> dict[str, float]:
    return {name: float(value) for name, value in
            re.findall(r"^\s+(install|migrate|seed|clone|ready)\s+([\d.]+)s", output, re.MULTILINE)}


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", f"{server()}/{database}", "-qc", sql], check=True,
                   capture_output=True)


def bench_previews(customers: int, runs: int, port: int) -> None:
    template = "benchtpl"
    size = ["--customers", str(customers), "--template", template, "--no-serve",
            "--port", str(port)]
    cold, warm = [], []
    for run in range(runs):
        name = f"benchcold{run}"
        seconds, out = preview(name, "--cold", *size)
        cold.append((seconds, stages(out)))
        preview(name, "--destroy")
    preview("benchwarmup", *size, "--rebuild-template")  # builds the template
    preview("benchwarmup", "--destroy")
    for run in range(runs):
        name = f"benchwarm{run}"
        seconds, out = preview(name, *size)
        warm.append((seconds, stages(out)))
        preview(name, "--destroy")
    preview("benchwarmup", "--destroy", "--destroy-template", "--template", template)

    print(f"preview ready, {customers} customers, {runs} runs (median seconds)")
    for label, results in (("cold (create+migrate+seed+serve)", cold),
                           ("from template (clone+serve)", warm)):
        total = statistics.median(seconds for seconds, _ in results)
        keys = sorted({key for _, parts in results for key in parts},
                      key=["install", "migrate", "seed", "clone", "ready"].index)
        parts = ", ".join(f"{key} {statistics.median(p.get(key, 0) for _, p in results):.2f}"
                          for key in keys)
        print(f"  {label:<34} {total:6.2f}s   ({parts})")


def bench_seed(customers: int) -> None:
    database = "ibo_preview_benchseed"
    psql(f'DROP DATABASE IF EXISTS "{database}"')
    psql(f'CREATE DATABASE "{database}"')
    media = ROOT / "var" / "preview" / database
    values = {**os.environ, "DATABASE_URL": f"{server()}/{database}", "DEBUG": "on",
              "MEDIA_ROOT": str(media / "documents")}
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=values, cwd=ROOT,
                       check=True)
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "manage.py", "seed_demo", "--customers", str(customers),
                               "--agencies", "40"], env=values, cwd=ROOT, capture_output=True,
                              text=True, check=True)
        wall = time.perf_counter() - started
        rows = int(re.search(r"(\d+) rows in", done.stdout).group(1))
        print(f"seed_demo --customers {customers}: {wall:.1f}s wall (process), {rows} rows, "
              f"{rows / wall:,.0f} rows/s, {customers / wall:,.0f} customers/s")
        for line in done.stdout.splitlines()[:2]:
            print(f"  {line.strip()}")
    finally:
        psql(f'DROP DATABASE IF EXISTS "{database}"')
        subprocess.run(["rm", "-rf", str(media)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200, help="Preview book size.")
    parser.add_argument("--big", type=int, default=100_000, help="seed_demo rate run size.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--skip-previews", action="store_true")
    parser.add_argument("--skip-seed", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}")
    if not args.skip_previews:
        bench_previews(args.customers, args.runs, args.port)
    if not args.skip_seed:
        bench_seed(args.big)


if __name__ == "__main__":
    main()
