"""The PostgreSQL backend: django-prometheus's (query metrics), with a pool that tests
a connection before handing it out only when the connection has been idle.

Django's pool (CONN_HEALTH_CHECKS) sends an empty query on every checkout, a round
trip per request. A connection handed out less than CHECK_IDLE_SECONDS ago was
working then; one that sat longer (across a database restart, a failover, an idle
timeout on the way) is tested, and replaced by the pool if it fails.
"""

from time import monotonic

from django_prometheus.db.backends.postgresql import base

CHECK_IDLE_SECONDS = 1.0


def check_if_idle(conn) -> None:
    """psycopg_pool's `check`: raise if a connection idle for a while is broken."""
    from psycopg_pool import ConnectionPool

    now = monotonic()
    last = getattr(conn, "_handed_out_at", None)
    if last is None or now - last >= CHECK_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)
    conn._handed_out_at = now


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None and pool._check not in (None, check_if_idle):
            pool._check = check_if_idle  # Django's check (CONN_HEALTH_CHECKS), made cheaper
        return pool
