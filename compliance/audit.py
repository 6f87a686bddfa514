"""What the audit trail records, beyond auditlog's create/change/delete entries.

- customers, policies, claims and documents are registered with auditlog; the
  encrypted fields (phone, date of birth, address) are masked in change records
  (only the fact that they changed is kept), `updated_at` is left out;
- logins (success and failure), reuse of a rotated refresh token, document
  downloads: explicit entries;
- exports and erasures: written by compliance.services.
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import smart_str

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
    _plans.clear()
    for model in auditlog.get_models():
        _lean_creates(auditlog, model)


# --- Creates: auditlog's entry, with the field list worked out once per model --------

def _lean_creates(registry, model) -> None:
    """Swap auditlog's create receiver for `log_create` (same entry, less work)."""
    from auditlog.receivers import log_create as auditlog_log_create
    from django.db.models.signals import post_save

    post_save.disconnect(sender=model,
                         dispatch_uid=registry._dispatch_uid(post_save, auditlog_log_create))
    post_save.connect(log_create, sender=model, dispatch_uid=f"audit-create-{model._meta.label}")


def log_create(sender, instance, created, raw=False, **kwargs):
    """post_save: auditlog's create entry (`auditlog.receivers.log_create`), the same
    fields and values, the same pre_log/post_log signals; only the change record is
    built from a per-model list of getters (`create_changes`) instead of walking the
    model's fields and their options on every save."""
    from auditlog.context import auditlog_disabled
    from auditlog.signals import post_log, pre_log

    if not created or auditlog_disabled.get() or (raw and settings.AUDITLOG_DISABLE_ON_RAW_SAVE):
        return
    action = AuditEntry.Action.CREATE
    pre_log_results = pre_log.send(sender, instance=instance, action=action)
    if any(result is False for _, result in pre_log_results):
        return
    changes = entry = error = None
    try:
        changes = create_changes(instance)
        if changes:
            entry = AuditEntry.objects.log_create(instance, action=action, changes=changes)
    except BaseException as exc:  # noqa: BLE001 - reported through post_log, then raised
        error = exc
    finally:
        if entry or error:
            post_log.send(sender, instance=instance, instance_old=None, action=action,
                          error=error, pre_log_results=pre_log_results, changes=changes,
                          log_entry=entry, log_created=entry is not None,
                          use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        if error:
            raise error


def create_changes(instance) -> dict | None:
    """`auditlog.diff.model_instance_diff(None, instance)`, from a plan made once per
    model: every tracked field whose value is not "None", as ["None", value], masked
    where the model masks it."""
    if settings.AUDITLOG_STORE_JSON_CHANGES:  # not this project's setting: auditlog's own
        from auditlog.diff import model_instance_diff

        return model_instance_diff(None, instance, use_json_for_changes=True)
    changes = {}
    for name, value_of, mask in _create_plan(type(instance)):
        value = value_of(instance)
        if value != "None":
            new = value if type(value) is str else smart_str(value)
            changes[name] = (mask("None"), mask(new)) if mask else ("None", new)
    return changes or None


_plans: dict[type, tuple] = {}


def _create_plan(model) -> tuple:
    plan = _plans.get(model)
    if plan is None:
        plan = _plans[model] = tuple(_tracked(model))
    return plan


def _tracked(model):
    """(name, getter, mask) per field auditlog's diff of a new instance looks at, in
    the order of the model's fields."""
    from auditlog.diff import get_mask_function, track_field
    from auditlog.registry import auditlog

    options = auditlog.get_model_fields(model)
    include, exclude = options["include_fields"], options["exclude_fields"]
    mask = get_mask_function(options.get("mask_callable"))
    for field in model._meta.get_fields():
        if not track_field(field) or (include and field.name not in include) or \
                field.name in exclude:
            continue
        masked = field.name in options["mask_fields"]
        yield field.name, _getter(field), (mask if masked else None)


def _getter(field):
    """The new value of `field` as `auditlog.diff.get_field_value` gives it. Reading
    a concrete field's own value cannot raise, so auditlog's fallback to a default
    (for a missing related object) is only needed where a related object is read."""
    from auditlog.diff import get_field_value
    from django.db.models import DateTimeField, JSONField

    name = field.name
    if not field.concrete or (field.is_relation and settings.AUDITLOG_USE_FK_STRING_REPRESENTATION):
        # A reverse relation, or a related object's str(): left to auditlog itself.
        return lambda obj: get_field_value(obj, field)
    if isinstance(field, DateTimeField):
        def value(obj):
            raw = getattr(obj, name)
            try:
                raw = field.to_python(raw)
            except TypeError:
                return raw
            if raw is not None and settings.USE_TZ and not timezone.is_naive(raw):
                raw = timezone.make_naive(raw, timezone=datetime.UTC)
            return raw
    elif isinstance(field, JSONField):
        def value(obj):
            raw = field.to_python(getattr(obj, name))
            try:
                return json.dumps(raw, sort_keys=True, cls=field.encoder)
            except TypeError:
                return raw
    elif (field.one_to_one or field.many_to_one) and hasattr(field, "rel_class"):
        attname = field.get_attname()

        def value(obj):
            return smart_str(getattr(obj, attname), strings_only=True)
    else:
        def value(obj):
            raw = smart_str(getattr(obj, name))
            return str(raw) if type(raw).__name__ == "__proxy__" else raw
    return value


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
