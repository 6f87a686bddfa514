"""A preview environment in one command: a fresh PostgreSQL database for a named
environment, cloned from a pre-migrated, pre-seeded template, served by daphne.

    manage.py preview NAME              # build the template if needed, clone, serve
    manage.py preview NAME --destroy    # drop the environment's database and files

The server is the one given by PREVIEW_DATABASE_URL, else DATABASE_URL (PostgreSQL).
The template (``ibo_preview_template``, or ``--template``) is rebuilt when the migrations or the
seed options change; it is marked as a template that takes no connections, so cloning it
(CREATE DATABASE ... TEMPLATE, which needs it idle) never waits on a stray session.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PREFIX = "ibo_preview_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


def server_url() -> str:
    url = os.environ.get("PREVIEW_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise CommandError("preview needs PostgreSQL: set PREVIEW_DATABASE_URL or DATABASE_URL "
                           "to a postgres:// URL of the server to create databases on.")
    return url


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _connect(base: str):
    import psycopg

    return psycopg.connect(database_url(base, "postgres"), autocommit=True)


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise CommandError(f"Not a valid database name: {name!r}.")
    return f'"{name}"'


def database_exists(base: str, name: str) -> bool:
    with _connect(base) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone() is not None


def drop_database(base: str, name: str) -> bool:
    with _connect(base) as conn:
        row = conn.execute("SELECT datistemplate FROM pg_database WHERE datname = %s",
                           [name]).fetchone()
        if row is None:
            return False
        if row[0]:
            conn.execute(f"ALTER DATABASE {_ident(name)} WITH IS_TEMPLATE false")
        conn.execute(f"ALTER DATABASE {_ident(name)} WITH ALLOW_CONNECTIONS false")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        conn.execute(f"DROP DATABASE {_ident(name)}")
        return True


def media_root(name: str) -> Path:
    return Path(settings.BASE_DIR) / "var" / "preview" / name / "documents"


def fingerprint(seed_args: list[str]) -> str:
    """Changes when a migration, the demo book or the seed options change."""
    digest = hashlib.sha256(" ".join(seed_args).encode())
    base = Path(settings.BASE_DIR)
    for path in sorted(base.glob("*/migrations/*.py")) + [base / "demo" / "book.py"]:
        digest.update(path.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def template_fingerprint(base: str, template: str) -> str | None:
    with _connect(base) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", [template]).fetchone()
    return row[0] if row else None


def missing_requirements() -> list[str]:
    """Dependencies of this project that are not installed."""
    from packaging.requirements import Requirement

    missing = []
    for line in metadata.requires("insurance-backoffice") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        if version not in requirement.specifier:
            missing.append(str(requirement))
    return missing


class Command(BaseCommand):
    help = ("Create (or --destroy) a preview environment: a fresh PostgreSQL database "
            "cloned from a pre-migrated, pre-seeded template, served by daphne.")

    def add_arguments(self, parser):
        parser.add_argument("name", help="Environment name: lower-case letters, digits, _.")
        parser.add_argument("--destroy", action="store_true",
                            help="Drop the environment's database and files.")
        parser.add_argument("--destroy-template", action="store_true",
                            help="Drop the template too (with --destroy).")
        parser.add_argument("--cold", action="store_true",
                            help="Do not clone: migrate and seed the new database itself.")
        parser.add_argument("--rebuild-template", action="store_true")
        parser.add_argument("--template", default="template",
                            help="Name of the template environment (default %(default)s).")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--no-serve", action="store_true",
                            help="Stop once the server answers /health/ready.")
        parser.add_argument("--customers", type=int, default=200)
        parser.add_argument("--agencies", type=int, default=3)
        parser.add_argument("--seed", type=int, default=2026)

    # --- helpers -------------------------------------------------------------------

    def _env(self, name: str, base: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database_url(base, name),
            "MEDIA_ROOT": str(media_root(name)),
            "DEBUG": os.environ.get("PREVIEW_DEBUG", "on"),
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("PREVIEW_DATABASE_URL", None)
        return env

    def _manage(self, env: dict[str, str], *args: str) -> None:
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
        done = subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise CommandError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        if self.verbosity >= 2:
            self.stdout.write(done.stdout)

    def _stage(self, name: str, started: float, note: str = "") -> None:
        seconds = time.perf_counter() - started
        self.timings[name] = seconds
        self.stdout.write(f"  {name:<8} {seconds:7.2f}s  {note}".rstrip())

    # --- stages --------------------------------------------------------------------

    def handle(self, *args, **opts):
        name = opts["name"]
        for value in (name, opts["template"]):
            if not _NAME.match(value):
                raise CommandError("Names must be 1-40 lower-case letters, digits or _, "
                                   "starting with a letter or digit.")
        if name == opts["template"]:
            raise CommandError(f"{name!r} is the template's name; choose another.")
        self.template = f"{PREFIX}{opts['template']}"
        self.verbosity = opts["verbosity"]
        base = server_url()
        database = f"{PREFIX}{name}"
        if opts["destroy"]:
            dropped = drop_database(base, database)
            shutil.rmtree(media_root(database).parent, ignore_errors=True)
            if opts["destroy_template"]:
                drop_database(base, self.template)
                shutil.rmtree(media_root(self.template).parent, ignore_errors=True)
            self.stdout.write(f"Preview {name}: " + ("destroyed." if dropped else "not found."))
            return

        if database_exists(base, database):
            raise CommandError(f"Preview {name} exists already; destroy it first "
                               f"(manage.py preview {name} --destroy).")
        seed_args = ["seed_demo", "--seed", str(opts["seed"]), "--customers",
                     str(opts["customers"]), "--agencies", str(opts["agencies"])]
        self.timings: dict[str, float] = {}
        total = time.perf_counter()
        self.stdout.write(f"Preview {name} (database {database}):")

        started = time.perf_counter()
        missing = missing_requirements()
        if missing:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e",
                            str(settings.BASE_DIR)], check=True)
        self._stage("install", started, f"installed {len(missing)} missing" if missing
                    else "dependencies present")

        if opts["cold"]:
            self._create_and_load(base, database, seed_args)
        else:
            self._template(base, seed_args, rebuild=opts["rebuild_template"])
            started = time.perf_counter()
            with _connect(base) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", [self.template])
                conn.execute(
                    f"CREATE DATABASE {_ident(database)} TEMPLATE {_ident(self.template)}")
            source = media_root(self.template)
            if source.exists():
                shutil.copytree(source, media_root(database), dirs_exist_ok=True)
            self._stage("clone", started, f"from {self.template}")

        started = time.perf_counter()
        server = self._serve(self._env(database, base), opts["host"], opts["port"])
        try:
            self._wait_ready(server, opts["host"], opts["port"])
            self._stage("ready", started, f"http://{opts['host']}:{opts['port']}/")
            self.stdout.write(self.style.SUCCESS(
                f"Preview {name} is ready in {time.perf_counter() - total:.2f}s: "
                f"http://{opts['host']}:{opts['port']}/portal/  (logins: staff@demo.example, "
                f"broker@demo.example; see seed_demo)"))
            if opts["no_serve"]:
                return
            self.stdout.write("Serving; Ctrl-C stops the server (the database stays until "
                              f"manage.py preview {name} --destroy).")
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()

    def _create_and_load(self, base: str, database: str, seed_args: list[str]) -> None:
        with _connect(base) as conn:
            conn.execute(f"CREATE DATABASE {_ident(database)}")
        env = self._env(database, base)
        started = time.perf_counter()
        self._manage(env, "migrate", "--noinput")
        self._stage("migrate", started)
        started = time.perf_counter()
        self._manage(env, *seed_args)
        self._stage("seed", started, " ".join(seed_args[1:]))

    def _template(self, base: str, seed_args: list[str], *, rebuild: bool) -> None:
        wanted = fingerprint(seed_args)
        if not rebuild and template_fingerprint(base, self.template) == wanted:
            self.stdout.write(f"  migrate     0.00s  template {self.template} is current")
            self.stdout.write("  seed        0.00s  template is seeded")
            self.timings.update(migrate=0.0, seed=0.0)
            return
        drop_database(base, self.template)
        shutil.rmtree(media_root(self.template).parent, ignore_errors=True)
        self._create_and_load(base, self.template, seed_args)
        with _connect(base) as conn:
            conn.execute(f"COMMENT ON DATABASE {_ident(self.template)} IS '{wanted}'")
            conn.execute(f"ALTER DATABASE {_ident(self.template)} "
                         "WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")

    def _serve(self, env: dict[str, str], host: str, port: int) -> subprocess.Popen:
        daphne = Path(sys.executable).with_name("daphne")
        command = [str(daphne) if daphne.exists() else "daphne", "--bind", host,
                   "--port", str(port), "config.asgi:application"]
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR,
                                stdout=None if self.verbosity >= 2 else subprocess.DEVNULL,
                                stderr=None if self.verbosity >= 2 else subprocess.DEVNULL)

    def _wait_ready(self, server: subprocess.Popen, host: str, port: int) -> None:
        url = f"http://{host}:{port}/health/ready"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"The server exited with code {server.returncode} "
                                   "(is the port free?).")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise CommandError(f"{url} did not answer 200 within 60s.")
