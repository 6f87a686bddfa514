"""What the audit trail records, beyond auditlog's create/change/delete entries.

- customers, policies, claims and documents are registered with auditlog; the
  encrypted fields (phone, date of birth, address) are masked in change records
  (only the fact that they changed is kept), `updated_at` is left out;
- logins (success and failure), reuse of a rotated refresh token, document
  downloads: explicit entries;
- exports and erasures: written by compliance.services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils.crypto import salted_hmac

from compliance import context
from compliance.models import AuditEntry

ENCRYPTED_MASK = "[encrypted]"


def mask_encrypted(value: str) -> str:
    """Mask callable for encrypted fields: never their plaintext, only set or not."""
    return "" if value in ("", "None") else ENCRYPTED_MASK


def register_models() -> None:
    from auditlog.registry import auditlog
    from django.db.models.signals import post_save, pre_save

    from claims.models import Claim, ClaimApproval, ClaimNote, ClaimPayment, ReserveChange
    from compliance import guard
    from customers.models import Customer
    from documents.models import Document
    from policies.models import Endorsement, Policy, Quote, RatingPlan

    handling = (ClaimNote, ReserveChange, ClaimPayment, ClaimApproval)
    for model in (Customer, Policy, Claim, Document, Quote, Endorsement, RatingPlan,
                  *handling):
        # The guard's receivers first, so a row's save statement is announced
        # before auditlog's own pre_save receiver runs.
        pre_save.connect(guard.announce, sender=model, dispatch_uid=f"guard-pre-{model}")
        post_save.connect(guard.withdraw, sender=model, dispatch_uid=f"guard-post-{model}")
        guard.audited_tables.add(model._meta.db_table.lower())
    auditlog.register(
        Customer,
        exclude_fields=["updated_at"],
        mask_fields=["phone", "date_of_birth", "address"],
        mask_callable="compliance.audit.mask_encrypted",
    )
    auditlog.register(Policy, exclude_fields=["updated_at"])
    # A claim's reserve and paid follow from its reserve changes and payments (each
    # with its own entry); its SLA timing follows from its status.
    auditlog.register(Claim, exclude_fields=["updated_at", "reserve", "paid",
                                             "status_since", "sla_due_at"])
    # Free text that may name people stays out of the trail (the rows hold it, and
    # erasure scrubs it there): the entry records who wrote what kind of note.
    auditlog.register(ClaimNote, exclude_fields=["text"])
    auditlog.register(ReserveChange)
    auditlog.register(ClaimPayment, exclude_fields=["payee"])
    auditlog.register(ClaimApproval, exclude_fields=["payee"])
    auditlog.register(Quote, exclude_fields=["updated_at"])
    auditlog.register(Endorsement)
    auditlog.register(RatingPlan)
    auditlog.register(Document)


def record(*, instance=None, action: int, actor=None, request=None, changes=None,
           data: dict | None = None, object_repr: str | None = None,
           content_type: ContentType | None = None, object_pk: str = "") -> AuditEntry:
    """Append one explicit entry about `instance` (or a bare resource type)."""
    entry = AuditEntry(
        content_type=content_type or ContentType.objects.get_for_model(instance),
        object_pk=str(instance.pk) if instance is not None else object_pk,
        object_repr=object_repr if object_repr is not None else str(instance),
        action=action,
        changes=changes,
        additional_data=data or None,
    )
    actor = getattr(actor, "_wrapped", actor)  # a request's lazy user
    if isinstance(actor, get_user_model()) and actor.pk is not None:
        entry.actor = actor
    if request is not None:
        entry.remote_addr = context.remote_addr_of(request)
        entry.cid = getattr(request, "request_id", None)
    entry.save()
    return entry


def _channel(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/portal/"):
        return "portal"
    return "other"


def _user_repr(user) -> str:
    return f"user {str(user.pk)[:8]}"


def on_login(sender, request, user, **kwargs):
    record(instance=user, action=AuditEntry.Action.LOGIN, actor=user, request=request,
           object_repr=_user_repr(user), data={"channel": _channel(request)})


def on_login_failed(sender, credentials, request=None, **kwargs):
    """Never the password, never the e-mail: the user's id when the account
    exists, else a keyed hash of the address (to see attacks on one account)."""
    User = get_user_model()
    email = str(credentials.get("username") or credentials.get("email") or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first() if email else None
    data = {"channel": _channel(request)}
    if user is not None:
        record(instance=user, action=AuditEntry.Action.LOGIN_FAILED, request=request,
               object_repr=_user_repr(user), data=data)
        return
    data["account"] = "unknown"
    data["email_hmac"] = salted_hmac("compliance.login-failed", email).hexdigest()[:32]
    record(action=AuditEntry.Action.LOGIN_FAILED, request=request, data=data,
           object_repr="unknown account", content_type=ContentType.objects.get_for_model(User))


def on_refresh_token_reused(sender, user, family_id, request=None, **kwargs):
    """A rotated refresh token came back: the login's tokens were all revoked."""
    record(instance=user, action=AuditEntry.Action.TOKEN_REUSE, request=request,
           object_repr=_user_repr(user),
           data={"channel": _channel(request), "token_family": family_id,
                 "revoked": "every token of the login"})


def on_document_downloaded(sender, document, user=None, request=None, **kwargs):
    record(instance=document, action=AuditEntry.Action.DOWNLOAD, actor=user, request=request,
           object_repr=f"document {str(document.pk)[:8]}",
           data={"claim_id": str(document.claim_id)})
