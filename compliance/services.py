"""Writes of the compliance app: erasure, export records, retention purge,
re-encryption of personal data under the newest key."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from auditlog.context import disable_auditlog
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import JSONField, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Role, User
from claims.models import Claim, ClaimNote
from claims.services import claim_texts_anonymize, claims_anonymize
from compliance import audit, chain, selectors, signals
from compliance.models import AuditEntry
from core.exceptions import Forbidden
from core.redact import Redactor
from customers import crypto
from customers.fields import EncryptedDateField, EncryptedTextField
from customers.models import Customer
from customers.services import PERSONAL_FIELDS, customer_anonymize, customer_redactor
from documents.models import Document
from documents.selectors import documents_of_customer
from documents.services import document_delete, documents_anonymize
from policies.models import Policy, Quote
from policies.services import policies_anonymize

logger = logging.getLogger("insurance.compliance")

ERASED = "[erased]"
DOCUMENT_PERSONAL_FIELDS = ("filename", "file", "sha256")
QUOTE_PERSONAL_FIELDS = ("risk",)


def user_may_erase(user) -> bool:
    """Erasure is irreversible and the insurer's decision as controller (identity
    of the requester checked, legal holds considered): staff only."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff_role)


def user_may_export(user) -> bool:
    """A subject access export holds the customer's whole audit history: staff only."""
    return user_may_erase(user)


def system_authority() -> User:
    """The authority of a run without a signed-in person (manage.py, the retention
    purge): sees every row, is never saved, leaves no actor on entries."""
    return User(role=Role.STAFF, is_active=True, is_staff=True)


def _short(pk) -> str:
    return str(pk)[:8]


def _scrub_changes(changes, fields) -> dict | None:
    if not isinstance(changes, dict):
        return changes
    out = {}
    for key, values in changes.items():
        if key in fields and isinstance(values, list | tuple):
            out[key] = [v if v in ("", "None", None) else ERASED for v in values]
        else:
            out[key] = values
    return out


def _scrub_entry(entry: AuditEntry, redactor: Redactor) -> None:
    entry.object_repr = redactor.text(entry.object_repr or "")
    entry.changes = redactor.value(entry.changes)
    entry.changes_text = redactor.text(entry.changes_text or "")
    entry.serialized_data = redactor.value(entry.serialized_data)
    entry.additional_data = redactor.value(entry.additional_data)


def _scrubber(customer_ct_id: int, document_ct_id: int, redactor: Redactor,
              quote_ct_id: int | None = None, unbound_quotes: frozenset = frozenset()):
    """Scrubs one entry about the customer's own records; False when it holds
    nothing of theirs (then it is left as written). The risk answers of quotes
    never bound go too."""
    def scrub(entry: AuditEntry) -> bool:
        before = chain.payload_digest(entry)
        if entry.content_type_id == quote_ct_id and entry.object_pk in unbound_quotes:
            entry.changes = _scrub_changes(entry.changes, QUOTE_PERSONAL_FIELDS)
            entry.serialized_data = None
        elif entry.content_type_id == customer_ct_id:
            entry.object_repr = f"erased customer {_short(entry.object_pk)}"
            entry.changes = _scrub_changes(entry.changes, PERSONAL_FIELDS)
            entry.changes_text = ""
            entry.serialized_data = None
        elif entry.content_type_id == document_ct_id:
            entry.object_repr = f"erased document {_short(entry.object_pk)}"
            entry.changes = _scrub_changes(entry.changes, DOCUMENT_PERSONAL_FIELDS)
            entry.changes_text = ""
            entry.serialized_data = None
        _scrub_entry(entry, redactor)
        return chain.payload_digest(entry) != before
    return scrub


def _distinctive_scrubber(redactor: Redactor):
    """Scrubs an entry about someone else's record that names the customer."""
    def scrub(entry: AuditEntry) -> bool:
        before = chain.payload_digest(entry)
        _scrub_entry(entry, redactor)
        return chain.payload_digest(entry) != before
    return scrub


def _mentioning(queryset, fields: tuple[str, ...], redactor: Redactor):
    """Rows whose text may name the person: a cheap database filter (literal strings
    and the phone's digits) before the exact match, which runs on those only."""
    names, casts = [], {}
    for field in fields:
        if isinstance(queryset.model._meta.get_field(field), JSONField):
            casts[f"{field}_as_text"] = Cast(field, TextField())
            names.append(f"{field}_as_text")
        else:
            names.append(field)
    q = Q(pk__in=[])
    for name in names:
        for needle in redactor.needles:
            q |= Q(**{f"{name}__icontains": needle})
        for pattern in redactor.db_patterns:
            q |= Q(**{f"{name}__iregex": pattern})
    return queryset.alias(**casts).filter(q)


def _scrub_admin_history(entries, redactor: Redactor) -> int:
    changed = 0
    for entry in entries.only("pk", "object_repr", "change_message"):
        repr_, message = redactor.text(entry.object_repr), redactor.text(entry.change_message)
        if (repr_, message) != (entry.object_repr, entry.change_message):
            AdminLogEntry.objects.filter(pk=entry.pk).update(
                object_repr=repr_[:200], change_message=message)
            changed += 1
    return changed


def _scrub_free_text(*, customer: Customer, related: dict, full: Redactor,
                     distinctive: Redactor) -> dict[str, int]:
    """Each app scrubs its own text: every trace in the customer's own records,
    and the unmistakable ones (full name, e-mail, phone, address) in others'."""
    own_claims = Claim.objects.filter(pk__in=related["claim"])
    own_policies = Policy.objects.filter(pk__in=related["policy"])
    others_claims = Claim.objects.exclude(pk__in=related["claim"])
    others_policies = Policy.objects.exclude(pk__in=related["policy"])
    others_documents = Document.objects.exclude(claim_id__in=related["claim"])
    counts = {
        "claims": claims_anonymize(claims=own_claims, redactor=full)
        + claims_anonymize(claims=_mentioning(others_claims, ("description",), distinctive),
                           redactor=distinctive),
        "policies": policies_anonymize(policies=own_policies, redactor=full)
        + policies_anonymize(
            policies=_mentioning(others_policies, ("cancellation_reason",), distinctive),
            redactor=distinctive),
        "documents": documents_anonymize(
            documents=_mentioning(others_documents, ("filename",), distinctive),
            redactor=distinctive),
        "claim_notes_and_payees": claim_texts_anonymize(claims=own_claims, redactor=full)
        + claim_texts_anonymize(
            notes=_mentioning(ClaimNote.objects.exclude(claim_id__in=related["claim"]),
                              ("text",), distinctive),
            redactor=distinctive),
    }
    own_admin = Q(content_type=ContentType.objects.get_for_model(Customer),
                  object_id=str(customer.pk))
    for kind in ("policy", "claim", "document"):
        if related[kind]:
            own_admin |= Q(content_type=selectors.content_type_for(kind),
                           object_id__in=related[kind])
    admin_own = AdminLogEntry.objects.filter(own_admin)
    counts["admin_history"] = _scrub_admin_history(admin_own, full) + _scrub_admin_history(
        _mentioning(AdminLogEntry.objects.exclude(pk__in=admin_own.values("pk")),
                    ("object_repr", "change_message"), distinctive),
        distinctive)
    return counts


@dataclass(frozen=True)
class ErasureResult:
    customer: Customer
    erased_now: bool
    documents_deleted: int = 0
    entries_scrubbed: int = 0


def customer_erase(*, actor: User | None, customer: Customer, request=None) -> ErasureResult:
    """Erase one customer's personal data, irreversibly. Idempotent.

    In one transaction: their documents are deleted (bytes after commit), the
    profile is anonymized, their personal data is scrubbed from the change records
    of audit entries about them and their documents (and from admin history), and
    one erasure entry is appended that seals the scrubbing and names no personal
    data. Policies, claims and amounts stay.
    """
    if actor is not None and not user_may_erase(actor):
        raise Forbidden("Only staff may erase a customer's personal data.")
    authority = actor or system_authority()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.is_erased:
            return ErasureResult(customer=customer, erased_now=False)
        full = customer_redactor(customer=customer)
        distinctive = customer_redactor(customer=customer, distinctive=True)
        related = selectors.customer_related_ids(customer)
        # Lock the documents before the first audit entry locks the chain head: a
        # concurrent DELETE of one of them holds its row and then wants the head, so
        # taking them in the other order deadlocks.
        documents = list(documents_of_customer(customer).select_for_update(of=("self",)))
        chain.seal()  # the entries to scrub are named by their position in the chain
        for document in documents:
            document_delete(actor=authority, document=document)
        scrubbed_text = _scrub_free_text(customer=customer, related=related, full=full,
                                         distinctive=distinctive)
        with disable_auditlog():  # the erasure entry below is this change's one entry
            customer = customer_anonymize(customer=customer)
            # Risk answers of quotes that never became a policy go; a bound quote's
            # answers are the rating basis of a contract the insurer must keep.
            unbound = list(Quote.objects.select_for_update(of=("self",)).filter(
                customer=customer, bound_policy__isnull=True).exclude(risk={}))
            for quote in unbound:
                quote.risk = {}
                quote.save(update_fields=["risk", "updated_at"])
        customer_ct = ContentType.objects.get_for_model(Customer)
        document_ct = selectors.content_type_for("document")
        # Entries scrubbed before (by the erasure of someone they also named) are
        # scrubbed again: the latest erasure's seal is the one that counts.
        about = selectors.audit_entries_about_customer(customer, related=related).order_by("seq")
        unbound_ids = frozenset(str(pk) for pk in Quote.objects.filter(
            customer=customer, bound_policy__isnull=True).values_list("pk", flat=True))
        sealed = chain.redact(list(about), _scrubber(
            customer_ct.pk, document_ct.pk, full, quote_ct_id=selectors.content_type_for(
                "quote").pk, unbound_quotes=unbound_ids))
        others = (AuditEntry.objects
                  .exclude(pk__in=selectors.audit_entries_about_customer(
                      customer, related=related).values("pk"))
                  .exclude(action=AuditEntry.Action.ERASE))
        mentioning = _mentioning(others, ("object_repr", "changes", "changes_text",
                                          "additional_data"), distinctive).order_by("seq")
        sealed.update(chain.redact(list(mentioning), _distinctive_scrubber(distinctive)))
        AdminLogEntry.objects.filter(
            content_type=customer_ct, object_id=str(customer.pk)
        ).update(object_repr=f"erased customer {_short(customer.pk)}")
        if related["document"]:
            AdminLogEntry.objects.filter(
                content_type=document_ct, object_id__in=related["document"]
            ).update(object_repr="erased document")
        signals.customer_erased.send(sender=Customer, customer=customer)
        audit.record(
            instance=customer, action=AuditEntry.Action.ERASE, actor=actor, request=request,
            object_repr=f"erased customer {_short(customer.pk)}",
            changes={field: [ERASED, ERASED] for field in PERSONAL_FIELDS},
            data={
                "documents_deleted": len(documents),
                "policies_kept": len(related["policy"]),
                "quotes_scrubbed": len(unbound),
                "claims_kept": len(related["claim"]),
                "free_text_scrubbed": scrubbed_text,
                chain.REDACTIONS_KEY: sealed,
            },
        )
    logger.info("customer.erased", extra={
        "event": "customer.erased", "customer_id": str(customer.pk),
        "documents_deleted": len(documents), "entries_scrubbed": len(sealed)})
    return ErasureResult(customer=customer, erased_now=True, documents_deleted=len(documents),
                         entries_scrubbed=len(sealed))


def customer_export_record(*, actor: User | None, customer: Customer, request=None) -> dict:
    """Build the export and append the audit entry saying it was made (and by whom)."""
    if actor is not None and not user_may_export(actor):
        raise Forbidden("Only staff may export a customer's personal data.")
    with transaction.atomic():
        data = selectors.customer_export(customer=customer)
        audit.record(
            instance=customer, action=AuditEntry.Action.EXPORT, actor=actor, request=request,
            object_repr=f"customer {_short(customer.pk)}",
            data={"schema_version": data["schema_version"], "counts": {
                k: len(data[k]) for k in ("policies", "quotes", "claims", "documents",
                                          "audit_entries")}},
        )
    return data


def person_erase(*, actor: User | None, email: str) -> list[ErasureResult]:
    """Erase the data subject behind an e-mail address: every customer record with that
    address, in every agency, in one transaction (all or none). Empty when none holds it."""
    if actor is not None and not user_may_erase(actor):
        raise Forbidden("Only staff may erase a customer's personal data.")
    with transaction.atomic():
        return [customer_erase(actor=actor, customer=customer)
                for customer in selectors.customers_of_person(email)]


def person_export_record(*, actor: User | None, email: str) -> dict:
    """The subject access export of the person behind an e-mail address: one export per
    customer record with that address, in every agency (each recorded in the trail)."""
    if actor is not None and not user_may_export(actor):
        raise Forbidden("Only staff may export a customer's personal data.")
    with transaction.atomic():
        records = [customer_export_record(actor=actor, customer=customer)
                   for customer in selectors.customers_of_person(email)]
    return {
        "schema_version": selectors.EXPORT_SCHEMA_VERSION,
        "generated_at": timezone.now().isoformat(),
        "email": (email or "").strip(),
        "records": records,
    }


@dataclass(frozen=True)
class PurgeItem:
    customer_id: str
    last_policy_end: datetime.date | None
    retained_until: datetime.date


def customers_purge(*, dry_run: bool, today: datetime.date | None = None) -> list[PurgeItem]:
    """Erase every customer past their retention date, each in its own transaction."""
    from customers.selectors import customer_retention_date

    due = list(selectors.customers_due_for_purge(today=today))
    items = [PurgeItem(str(c.pk), c.last_policy_end, customer_retention_date(customer=c))
             for c in due]
    if not dry_run:
        for customer in due:
            customer_erase(actor=None, customer=customer)
    return items


# --- Re-encryption under the newest key -----------------------------------------------

def _encrypted_columns() -> list[tuple[type, list[str]]]:
    out = []
    for model in apps.get_models():
        columns = [f.column for f in model._meta.concrete_fields
                   if isinstance(f, EncryptedTextField | EncryptedDateField)]
        if columns:
            out.append((model, columns))
    return out


def _is_newest(token: str, newest: Fernet) -> bool:
    try:
        newest.decrypt(token[len(crypto.PREFIX):].encode())
        return True
    except InvalidToken:
        return False


def personal_data_reencrypt(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted value that is not under the first (newest) key.

    The plaintext does not change, so this is not a change of the records: no
    per-row entries; one bulk entry records the run and its counts. A second run
    finds nothing to do.
    """
    keys = settings.FIELD_ENCRYPTION_KEYS
    newest = Fernet(keys[0].encode() if isinstance(keys[0], str) else keys[0])
    counts = {"rows_checked": 0, "values_reencrypted": 0}
    qn = connection.ops.quote_name
    for model, columns in _encrypted_columns():
        table, pk = model._meta.db_table, model._meta.pk.column
        select = (f"SELECT {qn(pk)}, {', '.join(qn(c) for c in columns)} FROM {qn(table)} "
                  f"ORDER BY {qn(pk)}")
        with connection.cursor() as cursor:
            cursor.execute(select)
            rows = cursor.fetchall()
        for start in range(0, len(rows), batch_size):
            with transaction.atomic(), disable_auditlog(), connection.cursor() as cursor:
                for row in rows[start:start + batch_size]:
                    counts["rows_checked"] += 1
                    updates = {}
                    for column, token in zip(columns, row[1:], strict=True):
                        if token and not _is_newest(token, newest):
                            updates[column] = crypto.rotate(token)
                    if updates:
                        sets = ", ".join(f"{qn(c)} = %s" for c in updates)
                        cursor.execute(f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk)} = %s",
                                       [*updates.values(), row[0]])
                        counts["values_reencrypted"] += len(updates)
    if counts["values_reencrypted"]:
        audit.record(
            action=AuditEntry.Action.BULK, content_type=ContentType.objects.get_for_model(Customer),
            object_repr="re-encryption of personal data under the newest key",
            data={"operation": "reencrypt", **counts},
        )
    return counts
