"""Portal pages that write policies: a new policy for a customer, cancelling one,
quoting (with the premium live as the broker types), binding, endorsing."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from core.exceptions import DomainError
from customers.selectors import customers_visible_to
from policies import services
from policies.forms import EndorsementForm, PolicyCancelForm, PolicyForm, QuoteForm, risk_of
from policies.models import PolicyStatus, QuoteStatus
from policies.selectors import endorsements_of, policies_visible_to, quotes_visible_to


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def policy_create(request, customer_id):
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id)
    form = PolicyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = services.policy_create(actor=request.user, customer_id=customer.pk,
                                                **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Policy {policy.policy_number} written.")
                return redirect("portal:policy-detail", pk=policy.pk)
        status = 400
    return render_page(request, "policies/policy_form.html",
                       {"form": form, "customer": customer}, status=status)


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def policy_cancel(request, pk):
    policy = get_object_or_404(policies_visible_to(request.user), pk=pk)
    form = PolicyCancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy = services.policy_cancel(
                    actor=request.user, policy=policy, reason=form.cleaned_data["reason"],
                    effective_date=form.cleaned_data.get("effective_date"))
            except DomainError as exc:  # 409 when already cancelled or expired
                add_domain_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, f"Policy {policy.policy_number} cancelled; refund "
                                          f"{policy.refund_amount:.2f}.")
                return redirect("portal:policy-detail", pk=policy.pk)
        else:
            status = 400
    cancellable = policy.status in (PolicyStatus.PENDING, PolicyStatus.ACTIVE)
    return render_page(request, "policies/policy_cancel.html",
                       {"form": form, "policy": policy, "cancellable": cancellable},
                       status=status)


def _quote_args(form: QuoteForm) -> dict:
    data = form.cleaned_data
    return {"policy_type": data["policy_type"], "coverage_amount": data["coverage_amount"],
            "start_date": data["start_date"], "end_date": data.get("end_date"),
            "risk": risk_of(form, data["policy_type"])}


def _risk_errors(form, exc: DomainError) -> None:
    """Put each bad risk answer's message beside its field."""
    errors = getattr(exc, "errors", None)
    if not errors:
        add_domain_error(form, exc)
        return
    form.errors  # noqa: B018 - validate first
    for key, message in errors.items():
        form.add_error(key if key in form.fields else None, message)


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def quote_create(request, customer_id):
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id)
    initial = {"start_date": timezone.localdate(), "policy_type": "auto"}
    form = QuoteForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                quote = services.quote_create(actor=request.user, customer_id=customer.pk,
                                              **_quote_args(form))
            except DomainError as exc:
                _risk_errors(form, exc)
            else:
                if quote.status == QuoteStatus.DECLINED:
                    messages.warning(request, f"Quote {quote.quote_number} declined.")
                else:
                    messages.success(request, f"Quote {quote.quote_number}: "
                                              f"{quote.premium_amount:.2f}.")
                return redirect("portal:quote-detail", pk=quote.pk)
        status = 400
    return render_page(request, "policies/quote_form.html",
                       {"form": form, "customer": customer}, status=status)


@portal_page(methods=("POST",))
def quote_preview(request, customer_id):
    """The premium and its breakdown for the form as it stands; records nothing."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id)
    form = QuoteForm(request.POST)
    context = {"rating": None, "problems": []}
    if not form.is_valid():
        context["problems"] = [f"{form.fields[k].label or k}: {e[0]}" if k in form.fields
                               else e[0] for k, e in form.errors.items()]
    else:
        try:
            context["rating"], context["plan"] = services.quote_preview(
                actor=request.user, customer=customer, **_quote_args(form))
        except DomainError as exc:
            errors = getattr(exc, "errors", None) or {exc.field or "": exc.message}
            context["problems"] = [
                f"{form.fields[k].label}: {m}" if k in form.fields else m
                for k, m in errors.items()]
    return render_page(request, "policies/_quote_premium.html", context)


@portal_page
def quote_detail(request, pk):
    quote = get_object_or_404(quotes_visible_to(request.user), pk=pk)
    bindable = (quote.status == QuoteStatus.OPEN
                and quote.valid_until >= timezone.localdate()
                and quote.start_date >= timezone.localdate())
    return render_page(request, "policies/quote_detail.html",
                       {"quote": quote, "bindable": bindable,
                        "policy": getattr(quote, "bound_policy", None)})


@portal_page(methods=("POST",), write=True)
def quote_bind(request, pk):
    quote = get_object_or_404(quotes_visible_to(request.user), pk=pk)
    try:
        policy = services.quote_bind(actor=request.user, quote=quote)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:quote-detail", pk=quote.pk)
    messages.success(request, f"Policy {policy.policy_number} bound.")
    return redirect("portal:policy-detail", pk=policy.pk)


def _endorsement_args(form: EndorsementForm) -> dict:
    data = form.cleaned_data
    args = {"effective_date": data["effective_date"],
            "coverage_amount": data.get("coverage_amount"),
            "end_date": data.get("end_date")}
    risk = risk_of(form, form.policy_type)
    if risk:
        args["risk"] = risk
    return args


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def endorsement_create(request, pk):
    """Change a policy mid-term: the first POST shows the premium change, the
    second (confirm) records it."""
    policy = get_object_or_404(policies_visible_to(request.user), pk=pk)
    form = EndorsementForm(request.POST or None, policy_type=policy.policy_type,
                           initial={"effective_date": timezone.localdate()})
    status, draft = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if request.POST.get("confirm") == "yes":
                    endorsement = services.endorsement_create(
                        actor=request.user, policy=policy, reason=form.cleaned_data["reason"],
                        **_endorsement_args(form))
                    messages.success(request, f"Endorsement {endorsement.sequence} recorded: "
                                              f"premium change {endorsement.premium_delta:.2f}.")
                    return redirect("portal:policy-detail", pk=policy.pk)
                draft = services.endorsement_draft(policy=policy, **_endorsement_args(form))
                status = 200
            except DomainError as exc:
                _risk_errors(form, exc)
                status = exc.status_code
    return render_page(request, "policies/endorsement_form.html",
                       {"form": form, "policy": policy, "draft": draft,
                        "endorsable": policy.rating_plan_id is not None and policy.status in (
                            PolicyStatus.PENDING, PolicyStatus.ACTIVE),
                        "endorsements": endorsements_of(policy)}, status=status)
