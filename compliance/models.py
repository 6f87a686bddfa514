"""The audit trail: auditlog's entry, chained by hash.

Each entry carries its position in the chain (`seq`), the hash of the entry
before it and its own hash. The hash covers the entry's fixed facts (when, what,
which object, who, from where, which request) and a digest of its redactable
payload (object representation, change record, additional data), so a lawful
erasure can scrub the payload later without breaking the chain: the erasure's
own entry seals the digest of every scrubbed payload (see compliance.chain).
"""

import contextvars

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import connections, models, router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64

# Set only while compliance.chain redacts payloads during an erasure.
redaction_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "audit_redaction_allowed", default=False
)


class ImmutableEntry(Exception):
    """Audit entries are written once and never changed or deleted."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if not redaction_allowed.get():
            raise ImmutableEntry("Audit entries cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        raise ImmutableEntry("Audit entries cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableEntry("Audit entries cannot be changed.")

    def bulk_create(self, objs, *args, **kwargs):
        raise ImmutableEntry("Audit entries are appended one by one to the hash chain.")


class AuditEntryManager(LogEntryManager.from_queryset(AuditEntryQuerySet)):
    pass


# create, update, delete, status transition: what ordinary writes record.
ORDINARY_ACTIONS = (0, 1, 2, 10)


class AuditEntry(AbstractLogEntry):
    class Action(AbstractLogEntry.Action):
        TRANSITION = 10
        CANCEL = 11
        ERASE = 12
        EXPORT = 13
        DOWNLOAD = 14
        LOGIN = 20
        LOGIN_FAILED = 21
        TOKEN_REUSE = 22
        BULK = 30

        choices = AbstractLogEntry.Action.choices + (
            (TRANSITION, _("status transition")),
            (CANCEL, _("cancellation")),
            (ERASE, _("erasure")),
            (EXPORT, _("export")),
            (DOWNLOAD, _("download")),
            (LOGIN, _("login")),
            (LOGIN_FAILED, _("failed login")),
            (TOKEN_REUSE, _("refresh token reused")),
            (BULK, _("bulk operation")),
        )

    # Public names of the actions (API, export).
    ACTION_NAMES = {
        Action.CREATE: "create",
        Action.UPDATE: "update",
        Action.DELETE: "delete",
        Action.ACCESS: "access",
        Action.TRANSITION: "transition",
        Action.CANCEL: "cancel",
        Action.ERASE: "erase",
        Action.EXPORT: "export",
        Action.DOWNLOAD: "download",
        Action.LOGIN: "login",
        Action.LOGIN_FAILED: "login_failed",
        Action.TOKEN_REUSE: "token_reuse",
        Action.BULK: "bulk",
    }

    # auditlog's own indexes on these (content_type alone, object_id, the `_like`
    # copies of object_pk and cid, action) serve no query here, and each costs every
    # entry twice: at its insert and again at its sealing (a new row version). The
    # ones kept are in Meta.indexes.
    content_type = models.ForeignKey(
        to="contenttypes.ContentType", on_delete=models.CASCADE, related_name="+",
        verbose_name=_("content type"), db_index=False)
    object_pk = models.CharField(max_length=255, verbose_name=_("object pk"))
    object_id = models.BigIntegerField(blank=True, null=True, verbose_name=_("object id"))
    cid = models.CharField(max_length=255, blank=True, null=True,
                           verbose_name=_("Correlation ID"))
    action = models.PositiveSmallIntegerField(choices=Action.choices, verbose_name=_("action"))
    seq = models.BigIntegerField(
        unique=True, null=True, editable=False,
        help_text="Position in the hash chain, from 1; empty until the entry is sealed "
                  "(right after its transaction commits).")
    prev_hash = models.CharField(max_length=64, editable=False, blank=True, default="")
    entry_hash = models.CharField(max_length=64, editable=False, blank=True, default="")
    payload_digest = models.CharField(
        max_length=64, editable=False,
        help_text="SHA-256 of the redactable payload as first written.")
    actor_ref = models.CharField(
        max_length=64, blank=True, default="", editable=False,
        help_text="The actor's id as written; survives the user's deletion.")
    redacted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):
        ordering = ["-seq"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["content_type", "object_pk", "-seq"], name="audit_object"),
            models.Index(fields=["actor_ref", "-seq"], name="audit_actor"),
            # A resource id or a request id searched alone (API, admin search).
            models.Index(fields=["object_pk"], name="audit_object_pk"),
            models.Index(fields=["cid"], name="audit_cid"),
            # Filtering by a rare action (erasures, exports, logins...); the actions of
            # ordinary writes are frequent enough to be found along `seq`, and their
            # entries pay nothing for this index.
            models.Index(fields=["action", "-seq"], name="audit_rare_action",
                         condition=~models.Q(action__in=ORDINARY_ACTIONS)),
            # The sealer's queue: only the few entries not sealed yet.
            models.Index(fields=["id"], name="audit_unsealed",
                         condition=models.Q(seq__isnull=True)),
        ]

    def __str__(self):
        return f"#{self.seq} {self.ACTION_NAMES.get(self.action, self.action)} {self.object_repr}"

    @property
    def action_name(self) -> str:
        return self.ACTION_NAMES.get(self.action, str(self.action))

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEntry("Audit entries cannot be changed.")
        from compliance import chain

        if args or set(kwargs) - {"force_insert", "using"}:
            chain.append(self, lambda: super(AuditEntry, self).save(*args, **kwargs))
            return
        using = kwargs.get("using") or router.db_for_write(AuditEntry, instance=self)
        chain.append(self, lambda: self._insert(using))

    def _insert(self, using: str) -> None:
        """The entry's one INSERT, its statement built once: an audited write pays for
        its row, not for composing the same SQL again (what Model.save would do:
        the same field values, the same signals, the same rollback marking)."""
        connection = connections[using]
        fields, sql = _insert_statement(connection)
        cls = self.__class__
        if pre_save.has_listeners(cls):
            pre_save.send(sender=cls, instance=self, raw=False, using=using, update_fields=None)
        params = [field.get_db_prep_save(field.pre_save(self, True), connection)
                  for field in fields]
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if connection.features.can_return_columns_from_insert:
                self.pk = cursor.fetchone()[0]
            else:
                self.pk = connection.ops.last_insert_id(cursor, cls._meta.db_table, "id")
        self._state.adding = False
        self._state.db = using
        if post_save.has_listeners(cls):
            post_save.send(sender=cls, instance=self, created=True, update_fields=None,
                           raw=False, using=using)

    def delete(self, *args, **kwargs):
        raise ImmutableEntry("Audit entries cannot be deleted.")


_STATEMENTS: dict[str, tuple] = {}


def _insert_statement(connection) -> tuple[list, str]:
    """The concrete fields an entry is inserted with, and the INSERT (per backend)."""
    found = _STATEMENTS.get(connection.vendor)
    if found is None:
        meta = AuditEntry._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(meta.db_table)}.{quote(meta.pk.column)}"
        found = _STATEMENTS[connection.vendor] = (fields, sql)
    return found


class ChainHead(models.Model):
    """One row: the last sealed entry. Locked FOR UPDATE while a batch of entries is
    sealed, so sealers seal one after another and the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="chainhead_single")]

    def __str__(self):
        return f"chain head #{self.seq}"
