"""The claims handler's workspace in the admin.

The claim page is not a form: it shows the claim's facts, its status with the
allowed next steps as buttons, the handler, the money (reserve, paid, incurred),
notes, reserve and payment forms and one timeline of everything that happened.
Every button and form goes through claims.services, with the API's messages.
The claims list has the handler's saved views (queues) with counts.
"""

from django.contrib import admin, messages
from django.db import connections
from django.db.models import Exists, OuterRef
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_object_actions import DjangoObjectActions, action

from claims import selectors, services
from claims.admin_forms import AssignForm, NoteForm, PaymentForm, ReserveForm
from claims.models import (
    HANDLING_STATUSES,
    ApprovalStatus,
    Claim,
    ClaimApproval,
    ClaimPayment,
    ClaimStatus,
    allowed_next,
)
from core.exceptions import DomainError
from core.formatting import counted, money
from core.pagination import EstimatedCountPaginator

WORKSPACE_CSS = {"all": ["css/admin-workspace.css"]}


def _approvals_for(user):
    """Pending approvals this user could decide (not their own, within their limit)."""
    return ClaimApproval.objects.filter(status=ApprovalStatus.PENDING,
                                        amount__lte=user.authority_limit
                                        ).exclude(requested_by=user)


QUEUES = [
    ("mine", "My open claims"),
    ("open", "All open"),
    ("unassigned", "Unassigned"),
    ("overdue", "Overdue"),
    ("approval", "Waiting for my approval"),
]


def queue_filter(qs, queue: str, user):
    now = timezone.now()
    if queue == "mine":
        return qs.filter(assignee=user, status__in=HANDLING_STATUSES).order_by(
            "sla_due_at", "-created_at")  # overdue (earliest due) first
    if queue == "open":
        return qs.filter(status__in=HANDLING_STATUSES)
    if queue == "unassigned":
        return qs.filter(assignee__isnull=True, status__in=HANDLING_STATUSES)
    if queue == "overdue":
        return qs.filter(sla_due_at__lt=now).order_by("sla_due_at")
    if queue == "approval":
        return qs.filter(Exists(_approvals_for(user).filter(claim=OuterRef("pk"))))
    return qs


# A queue longer than this shows as "1000+": counting it reads at most this many index
# entries, however many open claims the book holds.
QUEUE_COUNT_CAP = 1000


def queue_counts(qs, user) -> dict[str, int]:
    """Every queue's count in one query, each counted up to QUEUE_COUNT_CAP (a longer
    queue counts as QUEUE_COUNT_CAP + 1, shown as "1000+"): the rows of each queue are
    read through its index and the count stops there, never all open claims."""
    keys = [key for key, _ in QUEUES]
    parts, params = [], []
    for key in keys:
        rows = queue_filter(qs, key, user).order_by().values("pk")[:QUEUE_COUNT_CAP + 1]
        sql, p = rows.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS q_{key})")
        params += p
    with connections[qs.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(keys, cursor.fetchone(), strict=True))


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return QUEUES

    def queryset(self, request, queryset):
        if self.value():
            return queue_filter(queryset, self.value(), request.user)
        return queryset


@admin.register(Claim)
class ClaimAdmin(DjangoObjectActions, admin.ModelAdmin):
    # Status and amount first after the number: on a narrow screen they stay in view.
    list_display = ("claim_number_cell", "status", "amount", "customer", "handler", "sla_cell",
                    "reserve_cell", "paid_cell", "incident_date")
    list_display_links = ("claim_number_cell",)
    list_filter = (QueueFilter, "status", "claim_type", "policy__policy_type", "reported_date")
    list_select_related = ("policy__customer", "assignee")
    search_fields = ("claim_number", "policy__policy_number", "policy__customer__last_name")
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    change_form_template = "admin/claims/claim/workspace.html"
    change_list_template = "admin/claims/claim/change_list.html"
    actions = ["start_processing", "approve", "deny"]
    change_actions = ("start_processing_one", "approve_one", "deny_one", "assign_to_me")
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    class Media:
        css = WORKSPACE_CSS

    def get_queryset(self, request):
        # The selector already selects related rows, so list_select_related would be
        # skipped by the changelist: name them here.
        return selectors.claims_visible_to(request.user).select_related(
            "policy__customer", "assignee")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Claim._meta.fields]

    def get_ordering(self, request):
        # A handler's own queue and the overdue list: the most overdue first.
        if request.GET.get("queue") in ("mine", "overdue"):
            return ["sla_due_at", "-created_at"]
        return super().get_ordering(request)

    # --- the list ---------------------------------------------------------------------

    @admin.display(description="claim", ordering="claim_number")
    def claim_number_cell(self, claim):
        return format_html('<span class="nowrap">{}</span>', claim.claim_number)

    @admin.display(description="amount", ordering="claim_amount")
    def amount(self, claim):
        return money(claim.claim_amount)

    @admin.display(description="reserve", ordering="reserve")
    def reserve_cell(self, claim):
        return money(claim.reserve)

    @admin.display(description="paid", ordering="paid")
    def paid_cell(self, claim):
        return money(claim.paid)

    @admin.display(description="customer", ordering="policy__customer__last_name")
    def customer(self, claim):
        return f"{claim.policy.customer.first_name} {claim.policy.customer.last_name}"

    @admin.display(description="handler", ordering="assignee__email")
    def handler(self, claim):
        return claim.assignee.display_name if claim.assignee_id else "—"

    @admin.display(description="SLA due", ordering="sla_due_at")
    def sla_cell(self, claim):
        if claim.sla_due_at is None:
            return "—"
        text = timezone.localtime(claim.sla_due_at).strftime("%d %b %H:%M")
        if claim.overdue:
            return format_html('<span class="overdue nowrap">{} · overdue</span>', text)
        return format_html('<span class="nowrap">{}</span>', text)

    def changelist_view(self, request, extra_context=None):
        counts = queue_counts(self.get_queryset(request), request.user)
        current = request.GET.get("queue", "")
        labels = dict(QUEUES)
        extra_context = {**(extra_context or {}),
                         "title": labels.get(current, "Claims"), "queues": [
            {"key": key, "label": label, "count": min(counts[key], QUEUE_COUNT_CAP),
             "more": counts[key] > QUEUE_COUNT_CAP, "current": key == current}
            for key, label in QUEUES]}
        return super().changelist_view(request, extra_context)

    # --- bulk actions on the list (through the transition service) ---------------------

    def _transition(self, request, queryset, to):
        done = 0
        for claim in queryset:
            done += self._transition_one(request, claim, to, quiet=True)
        if done:
            self.message_user(request, f"{counted(done, 'claim')} now {to}.", messages.SUCCESS)

    def _transition_one(self, request, claim, to, *, quiet=False) -> int:
        try:
            result = services.claim_transition(claim_id=claim.pk, to=to, actor=request.user)
        except DomainError as exc:
            self.message_user(request, f"{claim}: {exc.message}", messages.WARNING)
            return 0
        if isinstance(result, ClaimApproval):
            self.message_user(
                request, f"{claim}: {result.amount:.2f} is above your authority limit "
                f"({request.user.authority_limit:.2f}); approval requested from a second "
                f"person.", messages.WARNING)
            return 0
        if not quiet:
            self.message_user(request, f"{claim} is now {result.get_status_display().lower()}.",
                              messages.SUCCESS)
        return 1

    @admin.action(description="Start processing selected claims", permissions=["change"])
    def start_processing(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.PROCESSING)

    @admin.action(description="Approve selected claims", permissions=["change"])
    def approve(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.APPROVED)

    @admin.action(description="Deny selected claims", permissions=["change"])
    def deny(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.DENIED)

    # --- the claim page's buttons (object actions, POST only) --------------------------

    @action(label="Start processing", methods=("POST",), button_type="form",
            attrs={"class": "ws-primary"})
    def start_processing_one(self, request, obj):
        self._transition_one(request, obj, ClaimStatus.PROCESSING)

    @action(label="Approve", methods=("POST",), button_type="form",
            attrs={"class": "ws-primary"})
    def approve_one(self, request, obj):
        self._transition_one(request, obj, ClaimStatus.APPROVED)

    @action(label="Deny", methods=("POST",), button_type="form", attrs={"class": "ws-danger"})
    def deny_one(self, request, obj):
        self._transition_one(request, obj, ClaimStatus.DENIED)

    @action(label="Assign to me", methods=("POST",), button_type="form")
    def assign_to_me(self, request, obj):
        self._call(request, services.claim_assign, "Assigned to you.", claim_id=obj.pk,
                   assignee_id=request.user.pk)

    def get_change_actions(self, request, object_id, form_url):
        claim = self.get_queryset(request).filter(pk=object_id).values(
            "status", "assignee_id").first()
        if claim is None:
            return []
        status, assignee_id = claim["status"], claim["assignee_id"]
        names = {ClaimStatus.PROCESSING: "start_processing_one",
                 ClaimStatus.APPROVED: "approve_one", ClaimStatus.DENIED: "deny_one"}
        out = [names[s] for s in (ClaimStatus.PROCESSING, ClaimStatus.APPROVED,
                                  ClaimStatus.DENIED) if s in allowed_next(status)]
        if assignee_id != request.user.pk and status in HANDLING_STATUSES:
            out.append("assign_to_me")
        return out

    # --- the workspace page and its forms ----------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:pk>/workspace/<str:form>/", view(self.workspace_post),
                 name="claims_claim_workspace"),
            path("<uuid:pk>/approvals/<uuid:approval_pk>/<str:decision>/",
                 view(self.approval_post), name="claims_claim_approval"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":  # nothing on this page is saved as a form
            return HttpResponseNotAllowed(["GET"])
        claim = get_object_or_404(
            self.get_queryset(request).select_related("policy__customer", "assignee",
                                                      "reported_by"), pk=object_id)
        request.workspace_claim = claim  # get_object hands it to the admin: read once
        user = request.user
        pending = list(claim.approvals.filter(status=ApprovalStatus.PENDING)
                       .select_related("requested_by"))
        context = {
            "title": f"Claim {claim.claim_number}",
            "claim": claim,
            "timeline": selectors.claim_timeline(claim=claim, user=user),
            "pending_approvals": [
                {"approval": a, "can_decide": a.requested_by_id != user.pk
                 and a.amount <= user.authority_limit} for a in pending],
            "assign_form": AssignForm(initial={"assignee": claim.assignee_id}, prefix="assign"),
            "note_form": NoteForm(prefix="note"),
            "reserve_form": ReserveForm(initial={"amount": claim.reserve}, prefix="reserve"),
            "payment_form": PaymentForm(prefix="payment"),
            "can_reserve": claim.status in HANDLING_STATUSES,
            "can_pay": claim.status == ClaimStatus.APPROVED,
            "next_statuses": allowed_next(claim.status),
            "authority_limit": user.authority_limit,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_object(self, request, object_id, from_field=None):
        claim = getattr(request, "workspace_claim", None)
        if claim is not None and str(claim.pk) == str(object_id):
            return claim
        return super().get_object(request, object_id, from_field)

    def render_change_form(self, request, context, *args, **kwargs):
        context.update(show_save=False, show_save_and_continue=False,
                       show_save_and_add_another=False, show_delete_link=False)
        return super().render_change_form(request, context, *args, **kwargs)

    def _back(self, pk, anchor=""):
        return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[pk]) + anchor)

    def _call(self, request, service, success: str, *, may_wait: bool = True, **kwargs):
        """Call one service; `may_wait`: an approval returned means it waits for a
        second person."""
        try:
            result = service(actor=request.user, **kwargs)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        if may_wait and isinstance(result, ClaimApproval):
            self.message_user(
                request, f"{money(result.amount)} is above your authority limit "
                f"({money(request.user.authority_limit)}): approval requested from a second "
                f"person.", messages.WARNING)
        else:
            self.message_user(request, success, messages.SUCCESS)
        return result

    def workspace_post(self, request, pk, form):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        claim = get_object_or_404(self.get_queryset(request), pk=pk)
        forms = {"assign": AssignForm, "note": NoteForm, "reserve": ReserveForm,
                 "payment": PaymentForm}
        if form not in forms:
            return self._back(pk)
        bound = forms[form](request.POST, prefix=form)
        if not bound.is_valid():
            for field, errors in bound.errors.items():
                label = bound.fields[field].label or field if field in bound.fields else ""
                self.message_user(request, f"{str(label).capitalize()}: {' '.join(errors)}",
                                  messages.ERROR)
            return self._back(pk, f"#{form}")
        data = bound.cleaned_data
        if form == "assign":
            who = data["assignee"]
            self._call(request, services.claim_assign,
                       f"Assigned to {who.display_name}." if who else "Unassigned.",
                       claim_id=claim.pk, assignee_id=who.pk if who else None)
        elif form == "note":
            self._call(request, services.note_create, "Note added.", claim_id=claim.pk,
                       text=data["text"], visibility=data["visibility"])
        elif form == "reserve":
            self._call(request, services.reserve_set,
                       f"Reserve set to {data['amount']:.2f}.", claim_id=claim.pk,
                       amount=data["amount"], reason=data["reason"])
        else:
            self._pay(request, claim, data)
        return self._back(pk, "#timeline")

    def _pay(self, request, claim, data):
        fingerprint = f"admin {claim.pk} {data['amount']:.2f} {data['payee']} {data['final']}"

        def perform():
            result = services.payment_make(claim_id=claim.pk, actor=request.user,
                                           amount=data["amount"], payee=data["payee"],
                                           final=data["final"])
            kind = "approval" if isinstance(result, ClaimApproval) else "payment"
            return (202 if kind == "approval" else 201), {"kind": kind, "id": str(result.pk)}

        try:
            status, body, replayed = services.idempotent(
                actor=request.user, key=data["idempotency_key"], fingerprint=fingerprint,
                claim_id=claim.pk, perform=perform)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if replayed:
            self.message_user(request, "This payment form was already sent; nothing more "
                              "was paid.", messages.WARNING)
        elif status == 202:
            self.message_user(
                request, f"{data['amount']:.2f} is above your authority limit "
                f"({request.user.authority_limit:.2f}): approval requested from a second "
                f"person.", messages.WARNING)
        else:
            self.message_user(request, f"Paid {data['amount']:.2f} to {data['payee']}"
                              f"{' (final: claim closed)' if data['final'] else ''}.",
                              messages.SUCCESS)

    def approval_post(self, request, pk, approval_pk, decision):
        if request.method != "POST" or decision not in ("approve", "reject"):
            return HttpResponseNotAllowed(["POST"])
        get_object_or_404(self.get_queryset(request), pk=pk)
        approval = get_object_or_404(ClaimApproval, pk=approval_pk, claim_id=pk)
        verb = "Approved" if decision == "approve" else "Rejected"
        self._call(request, services.approval_decide,
                   f"{verb}: {approval.get_kind_display().lower()} of {approval.amount:.2f}.",
                   may_wait=False, approval_id=approval.pk, approve=decision == "approve")
        return self._back(pk, "#timeline")


@admin.register(ClaimApproval)
class ClaimApprovalAdmin(DjangoObjectActions, admin.ModelAdmin):
    """The four-eyes queue: requests above their requester's authority limit."""

    list_display = ("created_at", "claim_link", "kind", "amount", "requested_by_name",
                    "status", "decided_by_name")
    list_filter = ("status", "kind")
    list_select_related = ("claim", "requested_by", "decided_by")
    ordering = ("-created_at",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    change_actions = ("approve_it", "reject_it")
    readonly_fields = ("claim", "kind", "amount", "payee", "final", "status", "requested_by",
                       "decided_by", "decided_at", "payment", "created_at")
    fields = readonly_fields

    class Media:
        css = WORKSPACE_CSS

    def get_queryset(self, request):
        return selectors.approvals_visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff_role)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="claim", ordering="claim__claim_number")
    def claim_link(self, approval):
        return format_html('<a class="nowrap" href="{}">{}</a>',
                           reverse("admin:claims_claim_change", args=[approval.claim_id]),
                           approval.claim.claim_number)

    @admin.display(description="requested by")
    def requested_by_name(self, approval):
        return approval.requested_by.display_name

    @admin.display(description="decided by")
    def decided_by_name(self, approval):
        return approval.decided_by.display_name if approval.decided_by_id else "—"

    def _decide(self, request, obj, approve):
        try:
            services.approval_decide(approval_id=obj.pk, actor=request.user, approve=approve)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, "Approved." if approve else "Rejected.",
                              messages.SUCCESS)

    @action(label="Approve", methods=("POST",), button_type="form")
    def approve_it(self, request, obj):
        self._decide(request, obj, True)

    @action(label="Reject", methods=("POST",), button_type="form")
    def reject_it(self, request, obj):
        self._decide(request, obj, False)

    def get_change_actions(self, request, object_id, form_url):
        approval = self.get_queryset(request).filter(pk=object_id).first()
        return list(self.change_actions) if approval and approval.status == "pending" else []


@admin.register(ClaimPayment)
class ClaimPaymentAdmin(admin.ModelAdmin):
    """Payments made (read-only): the dashboard's "paid this month" lands here."""

    list_display = ("created_at", "claim_link", "amount", "payee", "final", "paid_by")
    list_filter = ("final", "created_at")
    list_select_related = ("claim", "actor")
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            claim__in=selectors.claims_visible_to(request.user).values("pk"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="claim", ordering="claim__claim_number")
    def claim_link(self, payment):
        return format_html('<a class="nowrap" href="{}">{}</a>',
                           reverse("admin:claims_claim_change", args=[payment.claim_id]),
                           payment.claim.claim_number)

    @admin.display(description="paid by")
    def paid_by(self, payment):
        return payment.actor.display_name if payment.actor_id else "—"
