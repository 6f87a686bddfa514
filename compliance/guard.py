"""Nothing changes an audited table behind the audit trail's back.

auditlog records a row when a model instance is saved or deleted (signals).
`QuerySet.update()`, `bulk_update()`, `bulk_create()` and raw SQL send no signal,
so they would change customers, policies, claims or documents silently. This
guard sits on every database connection (a Django execute wrapper) and refuses
an INSERT or UPDATE on an audited table unless

- it is the statement of an instance's own save() of that row (announced by the
  pre_save signal, withdrawn by post_save), which auditlog records; or
- the caller explicitly switched auditlog off with `auditlog.context.disable_auditlog()`
  and accounts for the batch itself with one summary entry (bulk seeding of
  synthetic rows, the erasure that writes its own entry, key rotation).

Deletes are not guarded: Django's deletion collector sends a signal per row for
audited models (auditlog listens), including for `QuerySet.delete()`.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE)\s+[`"\[]?(\w+)', re.IGNORECASE)

audited_tables: set[str] = set()
# (table, pk hex) of the rows whose save() is in progress in this context.
_saving: ContextVar[frozenset] = ContextVar("audit_saving", default=frozenset())


class UnauditedWrite(Exception):
    """A write to an audited table that the audit trail would not see."""


def _hex(value) -> str | None:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, str) and len(value) in (32, 36):
        return value.replace("-", "").lower()
    return None


def announce(sender, instance, **kwargs):
    """pre_save: this row's own save statement may pass."""
    if instance.pk is not None:
        _saving.set(_saving.get() | {(sender._meta.db_table, instance.pk.hex)})


def withdraw(sender, instance, **kwargs):
    """post_save: the save is done."""
    if instance.pk is not None:
        _saving.set(_saving.get() - {(sender._meta.db_table, instance.pk.hex)})


def _permitted(table: str, params, many: bool) -> bool:
    from auditlog.context import auditlog_disabled

    if auditlog_disabled.get():
        return True
    if many:
        return False
    saving = {pk for t, pk in _saving.get() if t == table}
    if not saving or params is None:
        return False
    values = params.values() if isinstance(params, dict) else params
    return any(_hex(v) in saving for v in values)


def execute_guard(execute, sql, params, many, context):
    if audited_tables and isinstance(sql, str):
        match = _WRITE.match(sql)
        if match and match.group(1).lower() in audited_tables:
            table = match.group(1).lower()
            if not _permitted(table, params, many):
                raise UnauditedWrite(
                    f"Refused a write to the audited table {table!r} that the audit trail "
                    f"would not record: change rows one by one through the service layer "
                    f"(save()), not with QuerySet.update(), bulk_update(), bulk_create() "
                    f"or raw SQL."
                )
    return execute(sql, params, many, context)


def install(sender, connection, **kwargs):
    """connection_created: put the guard on every new connection once."""
    if execute_guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(execute_guard)
