"""The connection pool tests a connection before handing it out only when it has been
idle (core.db.postgresql): a connection that died while idle (database restart,
idle timeout) is replaced, not handed to a request; a busy one costs no round trip."""

import pytest
from django.db import connection

from core.db.postgresql import base
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


class Conn:
    def __init__(self):
        self.autocommit = True
        self.queries = 0

    def execute(self, sql):
        self.queries += 1


def test_a_connection_used_a_moment_ago_is_not_tested_again(monkeypatch):
    clock = iter([100.0, 100.5, 101.6, 101.7])
    monkeypatch.setattr(base, "monotonic", lambda: next(clock))
    conn = Conn()
    base.check_if_idle(conn)  # never seen: tested
    base.check_if_idle(conn)  # 0.5 s later: not
    base.check_if_idle(conn)  # 1.1 s later: tested
    base.check_if_idle(conn)  # 0.1 s later: not
    assert conn.queries == 2


def test_the_pool_uses_the_idle_check():
    if connection.pool is None:
        pytest.skip("no pool configured")
    assert connection.pool._check is base.check_if_idle


def test_a_connection_killed_while_idle_is_replaced(monkeypatch):
    if connection.pool is None:
        pytest.skip("no pool configured")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        first = cursor.fetchone()[0]
    connection.close()  # back to the pool
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(dbname="postgres", host=db["HOST"], port=db["PORT"] or 5432,
                         user=db["USER"], password=db["PASSWORD"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    monkeypatch.setattr(base, "CHECK_IDLE_SECONDS", 0)  # as if it had sat idle
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != first
