"""Portal pages that write policies: a new policy for a customer, cancelling one."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from core.exceptions import DomainError
from customers.selectors import customers_visible_to
from policies import services
from policies.forms import PolicyCancelForm, PolicyForm
from policies.models import PolicyStatus
from policies.selectors import policies_visible_to


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
                policy = services.policy_cancel(actor=request.user, policy=policy,
                                                reason=form.cleaned_data["reason"])
            except DomainError as exc:  # 409 when already cancelled or expired
                add_domain_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, f"Policy {policy.policy_number} cancelled.")
                return redirect("portal:policy-detail", pk=policy.pk)
        else:
            status = 400
    cancellable = policy.status in (PolicyStatus.PENDING, PolicyStatus.ACTIVE)
    return render_page(request, "policies/policy_cancel.html",
                       {"form": form, "policy": policy, "cancellable": cancellable},
                       status=status)
