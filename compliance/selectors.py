"""Reads for the audit trail, the GDPR export and retention."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from claims.models import (
    OPEN_STATUSES,
    Claim,
    ClaimNote,
    ClaimPayment,
    ClaimStatusChange,
    NoteVisibility,
)
from compliance.models import AuditEntry
from customers.models import Customer
from customers.selectors import customer_retention_date, customers_past_retention
from documents.selectors import documents_of_customer
from policies.models import Endorsement, Policy, Quote

RESOURCE_MODELS = {
    "customer": ("customers", "customer"),
    "policy": ("policies", "policy"),
    "claim": ("claims", "claim"),
    "document": ("documents", "document"),
    "user": ("accounts", "user"),
    "note": ("claims", "claimnote"),
    "reserve": ("claims", "reservechange"),
    "payment": ("claims", "claimpayment"),
    "approval": ("claims", "claimapproval"),
    "quote": ("policies", "quote"),
    "endorsement": ("policies", "endorsement"),
    "rating_plan": ("policies", "ratingplan"),
}
RESOURCE_NAMES = {v: k for k, v in RESOURCE_MODELS.items()}
EXPORT_SCHEMA_VERSION = 1


def resource_type_of(content_type: ContentType) -> str:
    key = (content_type.app_label, content_type.model)
    return RESOURCE_NAMES.get(key, f"{content_type.app_label}.{content_type.model}")


def content_type_for(resource_type: str) -> ContentType:
    app_label, model = RESOURCE_MODELS[resource_type]
    return ContentType.objects.get_by_natural_key(app_label, model)


def audit_entries_visible_to(user: User) -> QuerySet[AuditEntry]:
    """The audit trail is for staff only."""
    # Sealed entries only: an entry joins the trail (and gets its seq) right after commit.
    qs = (AuditEntry.objects.filter(seq__isnull=False).select_related("content_type")
          .order_by("-seq"))
    if not (user and user.is_authenticated and user.is_active and user.is_staff_role):
        return qs.none()
    return qs


def audit_entries_filter(qs: QuerySet[AuditEntry], *, resource_type: str | None = None,
                         resource_id: str | None = None, actor: str | None = None):
    if resource_type:
        qs = qs.filter(content_type=content_type_for(resource_type))
    if resource_id:
        qs = qs.filter(object_pk=str(resource_id))
    if actor:
        if "@" in actor:
            found = get_user_model().objects.filter(email__iexact=actor).first()
            actor = str(found.pk) if found else "-"
        qs = qs.filter(actor_ref=actor)
    return qs


# --- About one customer ----------------------------------------------------------

def _ids(values) -> list[str]:
    return [str(v) for v in values]


def customer_related_ids(customer: Customer) -> dict[str, list[str]]:
    """Ids of the customer's policies, claims and documents, including documents
    deleted earlier (known only from their audit entries)."""
    policy_ids = _ids(Policy.objects.filter(customer=customer).values_list("pk", flat=True))
    claim_ids = _ids(Claim.objects.filter(policy__customer=customer).values_list("pk", flat=True))
    document_ids = set(_ids(documents_of_customer(customer).values_list("pk", flat=True)))
    if claim_ids:
        created = AuditEntry.objects.filter(
            content_type=content_type_for("document"), action=AuditEntry.Action.CREATE,
            changes__claim__1__in=claim_ids,
        ).values_list("object_pk", flat=True)
        document_ids.update(created)
    quote_ids = _ids(Quote.objects.filter(customer=customer).values_list("pk", flat=True))
    endorsement_ids = _ids(Endorsement.objects.filter(policy__customer=customer)
                           .values_list("pk", flat=True))
    return {"policy": policy_ids, "claim": claim_ids, "document": sorted(document_ids),
            "quote": quote_ids, "endorsement": endorsement_ids}


def audit_entries_about_customer(customer: Customer, *, related: dict | None = None):
    related = related if related is not None else customer_related_ids(customer)
    q = Q(content_type=content_type_for("customer"), object_pk=str(customer.pk))
    for kind in ("policy", "claim", "document", "quote", "endorsement"):
        if related.get(kind):
            q |= Q(content_type=content_type_for(kind), object_pk__in=related[kind])
    return AuditEntry.objects.filter(q)


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return f"{value:.2f}" if value is not None else None


def customer_export(*, customer: Customer) -> dict:
    """Everything held about one person, as one JSON-ready document (see
    compliance.api.GdprExportSerializer for the schema). Other people appear
    only as a role: no names, e-mail addresses or network addresses of staff."""
    related = customer_related_ids(customer)
    policies = list(Policy.objects.filter(customer=customer).order_by("created_at", "id"))
    claims = list(Claim.objects.filter(policy__customer=customer).order_by("created_at", "id"))
    history: dict[str, list] = {}
    for change in ClaimStatusChange.objects.filter(claim__in=claims).order_by("changed_at", "id"):
        history.setdefault(str(change.claim_id), []).append({
            "from_status": change.from_status, "to_status": change.to_status,
            "changed_at": _iso(change.changed_at)})
    notes: dict[str, list] = {}
    # Shared notes only: internal notes are the insurer's working notes, never shown
    # outside staff (the erasure scrubs the person's identifiers from them all).
    for note in ClaimNote.objects.filter(claim__in=claims, visibility=NoteVisibility.SHARED
                                         ).order_by("created_at", "id"):
        notes.setdefault(str(note.claim_id), []).append({
            "id": str(note.pk), "text": note.text, "created_at": _iso(note.created_at)})
    payments: dict[str, list] = {}
    for payment in ClaimPayment.objects.filter(claim__in=claims).order_by("created_at", "id"):
        payments.setdefault(str(payment.claim_id), []).append({
            "id": str(payment.pk), "amount": _money(payment.amount), "payee": payment.payee,
            "final": payment.final, "created_at": _iso(payment.created_at)})
    documents = list(documents_of_customer(customer).order_by("uploaded_at", "id"))
    quotes = list(Quote.objects.filter(customer=customer).select_related("bound_policy")
                  .order_by("created_at", "id"))
    entries = (audit_entries_about_customer(customer, related=related)
               .select_related("content_type", "actor").order_by("seq"))
    return {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "generated_at": _iso(timezone.now()),
        "profile": {
            "id": str(customer.pk),
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "phone": customer.phone,
            "date_of_birth": _iso(customer.date_of_birth),
            "address": customer.address,
            "broker": str(customer.broker_id) if customer.broker_id else None,
            "created_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
            "erased_at": _iso(customer.erased_at),
        },
        "consents": [{
            "purpose": "gdpr_data_processing",
            "given": customer.gdpr_consent,
            "given_at": _iso(customer.gdpr_consent_date),
        }],
        "retention": {
            "retained_until": _iso(customer_retention_date(customer=customer)),
        },
        "policies": [{
            "id": str(p.pk), "policy_number": p.policy_number, "policy_type": p.policy_type,
            "premium_amount": _money(p.premium_amount),
            "coverage_amount": _money(p.coverage_amount),
            "start_date": _iso(p.start_date), "end_date": _iso(p.end_date), "status": p.status,
            "cancelled_at": _iso(p.cancelled_at), "cancellation_reason": p.cancellation_reason,
            "created_at": _iso(p.created_at),
        } for p in policies],
        "quotes": [{
            "id": str(q.pk), "quote_number": q.quote_number, "policy_type": q.policy_type,
            "coverage_amount": _money(q.coverage_amount), "start_date": _iso(q.start_date),
            "end_date": _iso(q.end_date), "risk": q.risk, "status": q.status,
            "premium_amount": _money(q.premium_amount), "decline_reasons": q.decline_reasons,
            "valid_until": _iso(q.valid_until),
            "policy_id": str(q.bound_policy.pk) if getattr(q, "bound_policy", None) else None,
            "created_at": _iso(q.created_at),
        } for q in quotes],
        "claims": [{
            "id": str(c.pk), "claim_number": c.claim_number, "policy_id": str(c.policy_id),
            "claim_type": c.claim_type, "claim_amount": _money(c.claim_amount),
            "description": c.description, "incident_date": _iso(c.incident_date),
            "status": c.status, "reported_date": _iso(c.reported_date),
            "processed_date": _iso(c.processed_date), "created_at": _iso(c.created_at),
            "status_history": history.get(str(c.pk), []),
            "reserve": _money(c.reserve), "paid": _money(c.paid),
            "notes": notes.get(str(c.pk), []),
            "payments": payments.get(str(c.pk), []),
        } for c in claims],
        "documents": [{
            "id": str(d.pk), "claim_id": str(d.claim_id), "filename": d.filename,
            "mime_type": d.mime_type, "size": d.size, "document_type": d.document_type,
            "uploaded_at": _iso(d.uploaded_at),
        } for d in documents],
        "audit_entries": [{
            "id": e.pk, "timestamp": _iso(e.timestamp), "action": e.action_name,
            "resource_type": resource_type_of(e.content_type), "resource_id": e.object_pk,
            "actor_role": e.actor.role if e.actor_id and e.actor else None,
            "changes": e.changes,
        } for e in entries],
    }


# --- Retention ---------------------------------------------------------------------

def customers_due_for_purge(*, today: datetime.date | None = None,
                            years: int | None = None) -> QuerySet[Customer]:
    """Past their retention date and with no claim still open (an open claim is
    an ongoing legal matter: the data stays until it is decided)."""
    open_claims = Claim.objects.filter(policy__customer=OuterRef("pk"), status__in=OPEN_STATUSES)
    return customers_past_retention(today=today, years=years).exclude(Exists(open_claims))


def customers_of_person(email: str) -> QuerySet[Customer]:
    """Every customer record of one person, in every agency: an email is unique only
    within an agency, so the data subject behind an address may be several rows."""
    return Customer.objects.filter(email__iexact=(email or "").strip()).order_by("created_at",
                                                                                "id")


def customer_by_reference(reference: str) -> Customer | None:
    """A customer by id, or the first by e-mail address (case-insensitive); a person's
    every record is customers_of_person."""
    import uuid

    reference = (reference or "").strip()
    try:
        return Customer.objects.filter(pk=uuid.UUID(reference)).first()
    except ValueError:
        return customers_of_person(reference).first()
