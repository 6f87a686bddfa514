"""`manage.py preview`: a named environment cloned from a migrated, seeded template,
served until its readiness probe answers, then destroyed."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.conftest import requires_postgres

ROOT = Path(settings.BASE_DIR)
pytestmark = requires_postgres


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0]


def databases() -> dict[str, tuple[bool, bool]]:
    with psycopg.connect(f"{server()}/postgres") as conn:
        rows = conn.execute("SELECT datname, datistemplate, datallowconn FROM pg_database "
                            "WHERE datname LIKE 'ibo_preview_%'").fetchall()
    return {name: (is_template, allow) for name, is_template, allow in rows}


def preview(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREVIEW_DATABASE_URL": f"{server()}/postgres"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), "preview", *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    made = {"template": f"tpl{tag}", "a": f"a{tag}", "b": f"b{tag}", "cold": f"c{tag}"}
    yield made
    for key in ("a", "b", "cold"):
        preview(made[key], "--destroy")
    preview(made["a"], "--destroy", "--destroy-template", "--template", made["template"])
    assert not [name for name in databases() if tag in name]


def test_clone_from_template_serve_until_ready_and_destroy(names):
    common = ["--no-serve", "--customers", "25", "--template", names["template"]]
    first = preview(names["a"], "--port", str(free_port()), *common)
    assert first.returncode == 0, first.stdout + first.stderr
    for stage in ("install", "migrate", "seed", "clone", "ready"):
        assert f"  {stage} " in first.stdout
    assert "is ready in" in first.stdout

    found = databases()
    assert found[f"ibo_preview_{names['template']}"] == (True, False)  # template, no sessions
    assert found[f"ibo_preview_{names['a']}"] == (False, True)
    with psycopg.connect(f"{server()}/ibo_preview_{names['a']}") as conn:
        assert conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0] == 25
        # The clone is independent of the template.
        conn.execute("DELETE FROM claims_claimstatuschange")
        conn.commit()

    second = preview(names["b"], "--port", str(free_port()), *common)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "template" in second.stdout and "is current" in second.stdout
    with psycopg.connect(f"{server()}/ibo_preview_{names['b']}") as conn:
        assert conn.execute("SELECT count(*) FROM claims_claimstatuschange").fetchone()[0] > 0

    again = preview(names["a"], "--port", str(free_port()), *common)
    assert again.returncode != 0 and "exists already" in again.stderr

    gone = preview(names["a"], "--destroy")
    assert gone.returncode == 0 and "destroyed" in gone.stdout
    assert f"ibo_preview_{names['a']}" not in databases()
    assert not (ROOT / "var" / "preview" / f"ibo_preview_{names['a']}").exists()


def test_cold_preview_migrates_and_seeds_its_own_database(names):
    done = preview(names["cold"], "--cold", "--no-serve", "--port", str(free_port()),
                   "--customers", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  clone " not in done.stdout
    assert f"ibo_preview_{names['cold']}" in databases()


def test_bad_names_are_refused():
    done = preview("Bad-Name!", "--no-serve")
    assert done.returncode != 0
    assert "lower-case" in done.stderr
