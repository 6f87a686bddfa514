"""Portal pages that show claims: the dashboard, a customer's and a policy's page
(with their claims), the claims list, and reporting a claim (first notice of loss)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from claims import services
from claims.forms import ClaimFilterForm, ClaimNoteForm, ClaimReportForm
from claims.models import OPEN_STATUSES, ClaimStatus, ClaimStatusChange, ClaimType
from claims.selectors import claim_status_counts, claims_visible_to, recent_activity
from core.db import tallies
from core.exceptions import DomainError
from core.formatting import day, money
from core.lean import url_for_pk
from customers.models import Customer
from customers.selectors import customers_visible_to
from policies.models import PolicyStatus, PolicyType
from policies.selectors import policies_visible_to, policy_summary, quotes_visible_to

PAGE_SIZE = 25
RECENT = 5


def _actor_label(change: ClaimStatusChange, user) -> str:
    if change.actor_id is None:
        return "the system"
    if change.actor_id == user.pk:
        return "you"
    return "claims staff" if change.actor.is_staff_role else "your agency"


def _activity_items(user) -> list[dict]:
    """The agency's recent events (from the selector), worded and linked for the page."""
    items = []
    for kind, obj in recent_activity(user, limit=RECENT):
        if kind == "customer":
            items.append({"when": obj.created_at, "text": f"Customer {obj} added",
                          "url": reverse("portal:customer-detail", args=[obj.pk])})
        elif kind == "policy":
            items.append({"when": obj.created_at,
                          "text": f"Policy {obj.policy_number} ({obj.get_policy_type_display()})"
                                  f" written for {obj.customer}",
                          "url": reverse("portal:policy-detail", args=[obj.pk])})
        elif kind == "claim":
            items.append({"when": obj.created_at, "text": f"Claim {obj.claim_number} reported",
                          "url": reverse("portal:claim-detail", args=[obj.pk])})
        else:
            items.append({"when": obj.changed_at,
                          "text": f"Claim {obj.claim.claim_number} moved to "
                                  f"{obj.get_to_status_display().lower()} by "
                                  f"{_actor_label(obj, user)}",
                          "url": reverse("portal:claim-detail", args=[obj.claim_id])})
    return items


@portal_page
def dashboard(request):
    user = request.user
    counts = claim_status_counts(user)
    claim_counts = [
        {"status": status, "label": ClaimStatus(status).label, "count": counts.get(status, 0),
         "open": status in OPEN_STATUSES, "url": f"{reverse('portal:claim-list')}?status={status}"}
        for status in ClaimStatus.values
    ]
    summary = {row["policy_type"]: row for row in policy_summary(user=user)}
    policy_rows = [{"label": label, **summary.get(value, {"count": 0, "total_premium": None})}
                   for value, label in PolicyType.choices]
    return render_page(request, "claims/dashboard.html", {
        "claim_counts": claim_counts,
        "open_total": sum(c["count"] for c in claim_counts if c["open"]),
        "policy_rows": policy_rows,
        "activity": _activity_items(user),
    })


@portal_page
def customer_detail(request, pk):
    user = request.user
    customer = get_object_or_404(customers_visible_to(user), pk=pk)
    policies = policies_visible_to(user).filter(customer=customer).order_by("-start_date", "-id")
    claims = (claims_visible_to(user).filter(policy__customer=customer)
              .order_by("-created_at", "-id"))
    quotes = quotes_visible_to(user).filter(customer=customer).order_by("-created_at", "-id")
    return render_page(request, "customers/customer_detail.html", {
        "customer": customer, "policies": policies, "claims": claims, "quotes": quotes,
    })


@portal_page
def policy_detail(request, pk):
    user = request.user
    policy = get_object_or_404(policies_visible_to(user), pk=pk)
    claims = claims_visible_to(user).filter(policy=policy).order_by("-created_at", "-id")
    return render_page(request, "policies/policy_detail.html", {
        "policy": policy,
        "claims": claims,
        "cancellable": policy.status in (PolicyStatus.PENDING, PolicyStatus.ACTIVE),
    })


_LIST_COLUMNS = ("id", "claim_number", "claim_type", "incident_date", "claim_amount", "status",
                 "policy__policy_number", "policy__customer_id", "policy__customer__first_name",
                 "policy__customer__last_name", "policy__customer__erased_at")


def _claim_rows(rows) -> list[dict]:
    """A page of the list as the table shows it, from `.values()` rows: no model
    instances, the customer's encrypted columns never read, one reverse() a page."""
    url = url_for_pk("portal:claim-detail")
    types, statuses = dict(ClaimType.choices), dict(ClaimStatus.choices)
    return [{
        "id": row["id"], "url": url(row["id"]),
        "claim_number": row["claim_number"],
        "customer": Customer.display_name(
            row["policy__customer_id"], row["policy__customer__first_name"],
            row["policy__customer__last_name"], row["policy__customer__erased_at"]),
        "policy_number": row["policy__policy_number"],
        "type": types.get(row["claim_type"], row["claim_type"]),
        "incident": day(row["incident_date"]), "amount": money(row["claim_amount"]),
        "status": row["status"], "status_label": statuses.get(row["status"], row["status"]),
    } for row in rows]


@portal_page
def claim_list(request):
    form = ClaimFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    claims = claims_visible_to(request.user)
    if status:
        claims = claims.filter(status=status)
    paginator = Paginator(claims.order_by("-created_at", "-id").values(*_LIST_COLUMNS),
                          PAGE_SIZE)
    paginator.count = tallies.count(claims)  # of the claims alone, not the joined rows
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _claim_rows(page.object_list)
    return render_page(request, "claims/claim_list.html",
                       {"form": form, "status": status, "page": page}, partial="results",
                       status=400 if form.errors else 200)


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def claim_report(request, policy_id):
    policy = get_object_or_404(policies_visible_to(request.user), pk=policy_id)
    form = ClaimReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                claim = services.claim_create(actor=request.user, policy_id=policy.pk,
                                              **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc, aliases={"policy_id": None})
            else:
                messages.success(request, f"Claim {claim.claim_number} reported.")
                return redirect("portal:claim-detail", pk=claim.pk)
        status = 400
    return render_page(request, "claims/claim_form.html",
                       {"form": form, "policy": policy}, status=status)


@portal_page(methods=("POST",), write=True)
def claim_note_add(request, pk):
    """A broker adds a shared note to a claim of their agency."""
    claim = get_object_or_404(claims_visible_to(request.user), pk=pk)
    form = ClaimNoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_create(claim_id=claim.pk, actor=request.user,
                                 text=form.cleaned_data["text"], visibility="shared")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Note sent to the claims team.")
    else:
        messages.error(request, " ".join(form.errors.get("text", ["Write a note first."])))
    return redirect(reverse("portal:claim-detail", args=[claim.pk]) + "#claim-notes")
