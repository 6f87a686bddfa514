"""Tallies: counts and sums the database keeps up to date as rows change.

A figure over a whole book ("active policies by type", "claims by status") read with
GROUP BY costs time in proportion to the book. A tally table holds the figure per key
(an agency and a type, say), kept by a trigger on the source table in the same
transaction as the change: every path that writes the rows (services, admin, bulk
loads, raw `UPDATE`s, deletes) keeps it right, and a reader sums a few rows.

Each key has up to `SLOTS` rows (a writer adds to the slot of its database backend,
`pg_backend_pid() % SLOTS`), so concurrent writers of one key rarely wait on the same
row lock: the row stays locked until the writer commits. A reader sums the slots
(whatever their number: changing it needs no change of the rows). The triggers run
once per statement over its changed rows (transition tables): a bulk load of a
million rows adds to each key once per statement.

PostgreSQL only: elsewhere (the SQLite of a laptop demo) the selectors group the
source rows, as they did before.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Sum
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.constants import INNER
from django.db.models.sql.where import AND

# 16 concurrent writers of one agency over 8 slots shared rows in pairs and queued
# on their locks: 16 slots made 16 writer processes' audited customer saves ~24 %
# faster (bench/README.md, P6). A reader sums at most SLOTS rows a key.
SLOTS = 16


@dataclass(frozen=True)
class Tally:
    table: str                    # the tally's table (a model with keys, slot, count, sums)
    source: str                   # the table whose rows it counts
    keys: tuple[str, ...]         # columns of both tables: what the figures are grouped by
    count: str                    # the tally's count column
    sums: tuple[tuple[str, str], ...] = ()  # (tally column, source column)
    slots: int = SLOTS            # a migration names the number it installed

    def _add(self, parts: list[tuple[str, str]]) -> str:
        """Add the (transition table, sign) parts to the tally: one upsert per key the
        statement changed (none when a change nets to nothing), whatever its rows."""
        keys = ", ".join(self.keys)
        selects = " UNION ALL ".join(
            f"SELECT {keys}, {sign}1 AS n"
            + "".join(f", {sign}{column} AS {total}" for total, column in self.sums)
            + f" FROM {rows}" for rows, sign in parts)
        totals = (self.count, *(t for t, _ in self.sums))
        summed = ", ".join(f"SUM({'n' if c == self.count else c})" for c in totals)
        moved = " OR ".join(f"SUM({'n' if c == self.count else c}) <> 0" for c in totals)
        adds = ", ".join(f"{c} = {self.table}.{c} + EXCLUDED.{c}" for c in totals)
        return (f"INSERT INTO {self.table} ({keys}, slot, {', '.join(totals)}) "
                f"SELECT {keys}, mod(pg_backend_pid(), {self.slots}), {summed} "
                f"FROM ({selects}) AS changed GROUP BY {keys} HAVING {moved} "
                f"ON CONFLICT ({keys}, slot) DO UPDATE SET {adds};")

    def fill_sql(self) -> list[str]:
        """The tally computed from the source rows (slot 0), replacing what it held."""
        keys = ", ".join(self.keys)
        sums = "".join(f", {t}" for t, _ in self.sums)
        sources = "".join(f", SUM({s})" for _, s in self.sums)
        return [f"DELETE FROM {self.table}",
                f"INSERT INTO {self.table} ({keys}, slot, {self.count}{sums}) "
                f"SELECT {keys}, 0, COUNT(*){sources} FROM {self.source} GROUP BY {keys}"]

    def function_sql(self) -> str:
        """The trigger function: what a statement's changed rows add to the tally."""
        return f"""CREATE OR REPLACE FUNCTION {self.table}_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {self._add([("new_rows", "")])}
  ELSIF TG_OP = 'DELETE' THEN {self._add([("old_rows", "-")])}
  ELSE {self._add([("new_rows", ""), ("old_rows", "-")])}
  END IF;
  RETURN NULL;
END $$"""

    def install_sql(self) -> list[str]:
        """The triggers, then the tally filled, with the source's writers held off (reads
        go on) so no change falls between the two. One statement each (no `%` in any).

        Statement-level triggers over transition tables: a bulk load (COPY, bulk_create)
        adds to each key once per statement, not once per row; a row trigger updating
        the same tally row thousands of times in one transaction leaves a chain of
        versions each update must walk (quadratic)."""
        fn = f"{self.table}_apply"
        return [
            f"LOCK TABLE {self.source} IN SHARE MODE",
            self.function_sql(),
            f"""CREATE OR REPLACE FUNCTION {fn}_truncate() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN DELETE FROM {self.table}; RETURN NULL; END $$""",
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON {self.source} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON {self.source} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE ON {self.source} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {self.table}_truncate AFTER TRUNCATE ON {self.source} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}_truncate()",
            *self.fill_sql(),
        ]

    def uninstall_sql(self) -> list[str]:
        fn = f"{self.table}_apply"
        return [*(f"DROP TRIGGER IF EXISTS {self.table}_{kind} ON {self.source}"
                  for kind in ("insert", "delete", "update", "truncate")),
                f"DROP FUNCTION IF EXISTS {fn}()", f"DROP FUNCTION IF EXISTS {fn}_truncate()"]

    def operation(self):
        """The migration operation installing it (nothing on a database other than
        PostgreSQL)."""
        return _on_postgresql(self.install_sql(), self.uninstall_sql())

    def reslot(self, *, was: int):
        """The migration operation moving an installed tally from `was` slots to its
        own: the trigger function only. The rows stay as they are; a reader sums
        them whatever slot they are in, so no figure changes."""
        import dataclasses

        return _on_postgresql([self.function_sql()],
                              [dataclasses.replace(self, slots=was).function_sql()])


def _on_postgresql(forward: list[str], backward: list[str]):
    """A migration operation running these statements, forward or backward, on
    PostgreSQL only."""
    from django.db import migrations

    def run(statements):
        def execute(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement, params=None)
        return execute

    return migrations.RunPython(run(forward), run(backward), elidable=False)


def kept(model) -> bool:
    """Whether the tally model's figures are kept by the database it is read from."""
    return connections[router.db_for_read(model)].vendor == "postgresql"


@dataclass(frozen=True)
class _Counted:
    tally: type                   # the tally model
    keys: frozenset[str]          # the key columns both tables share
    count: str                    # the tally's count field
    sums: tuple[tuple[str, str], ...]  # (source column, tally field)


# source model -> what counts it
_COUNTS: dict[type, _Counted] = {}


def counts(source, tally, *, keys: tuple[str, ...], count: str,
           sums: dict[str, str] | None = None) -> None:
    """Declare that `tally` counts `source`'s rows by `keys` (column names), and
    totals `sums` ({source column: tally field})."""
    _COUNTS[source] = _Counted(tally, frozenset(keys), count, tuple((sums or {}).items()))


def _answerable(queryset) -> tuple[_Counted, dict] | None:
    """What counts `queryset`'s model and the equalities the queryset holds, when those
    are its only conditions (a broker's agency, a status) and its tally is kept; else
    None. Joins that only fetch related rows (select_related) do not change its rows."""
    counted = _COUNTS.get(getattr(queryset, "model", None))
    if counted is None:
        return None
    query = queryset.query
    if (query.is_sliced or query.distinct or query.combinator or query.group_by
            or query.is_empty() or not kept(counted.tally)):
        return None
    where = query.where
    if where.negated or (where.connector != AND and len(where.children) > 1):
        return None
    filters = {}
    for child in where.children:
        if not (isinstance(child, Exact) and isinstance(child.lhs, Col)
                and child.lhs.alias == query.base_table
                and child.lhs.target.column in counted.keys
                and not hasattr(child.rhs, "resolve_expression")
                and child.lhs.target.column not in filters):  # status = a AND status = b
            return None
        filters[child.lhs.target.column] = child.rhs
    for join in query.alias_map.values():
        # An inner join through a nullable foreign key drops the rows where it is NULL,
        # unless the key is one of the equalities above (then no row has it NULL).
        if getattr(join, "join_type", None) == INNER and join.nullable and not (
                join.parent_alias == query.base_table
                and all(column in filters for column, _ in join.join_cols)):
            return None
    return counted, filters


def tallied(queryset) -> int | None:
    """The number of rows of `queryset`, read from its model's tally when the tally
    answers it (see _answerable); else None."""
    found = _answerable(queryset)
    if found is None:
        return None
    counted, filters = found
    columns = tuple(sorted(filters))
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(_sum_sql(counted.tally, counted.count, columns),
                       [filters[c] for c in columns])
        return int(cursor.fetchone()[0])  # SUM of a bigint is a numeric


def grouped(queryset, *, by: str) -> list[dict] | None:
    """`queryset`'s rows counted (and summed) per value of the key `by`, read from its
    tally when the tally answers it; else None. Each row: {by: value, "count": n,
    <source column>: total, ...}, in `by` order, values with no row left out."""
    found = _answerable(queryset)
    if found is None or by not in found[0].keys:
        return None
    counted, filters = found
    rows = (counted.tally.objects.using(queryset.db).filter(**filters).order_by(by)
            .values(by).annotate(count=Sum(counted.count),
                                 **{column: Sum(field) for column, field in counted.sums}))
    # (SUM of a bigint is a numeric: the count is made an int again.)
    return [{**row, "count": int(row["count"])} for row in rows if row["count"]]


@functools.cache
def _sum_sql(tally, count: str, columns: tuple[str, ...]) -> str:
    """The tally's count summed for equalities on `columns`, written once per shape
    (read on every list page: not compiled by the ORM each time). The key columns are
    named alike in both tables (agency_id, status...)."""
    meta = tally._meta
    where = " AND ".join(f'"{column}" = %s' for column in columns)
    return (f'SELECT COALESCE(SUM("{meta.get_field(count).column}"), 0) '
            f'FROM "{meta.db_table}"' + (f" WHERE {where}" if where else ""))


def count(queryset) -> int:
    """`queryset.count()`, from the tally when one answers it."""
    n = tallied(queryset)
    return queryset.count() if n is None else n
