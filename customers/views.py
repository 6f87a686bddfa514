"""Portal pages for customers: the list with live search, and adding one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from core.db import tallies
from core.exceptions import DomainError
from core.formatting import day
from core.lean import url_for_pk
from customers import services
from customers.forms import CustomerForm, CustomerSearchForm
from customers.models import Customer
from customers.selectors import customers_visible_to, policy_count_subquery

PAGE_SIZE = 25


def _search(qs, text: str):
    for term in text.split()[:5]:
        qs = qs.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term)
                       | Q(email__icontains=term))
    return qs


def _customer_rows(rows) -> list[dict]:
    """A page of the list as the table shows it, from `.values()` rows: no model
    instances, no encrypted column read, one reverse() a page."""
    url = url_for_pk("portal:customer-detail")
    return [{
        "url": url(row["id"]),
        "name": Customer.display_name(row["id"], row["first_name"], row["last_name"],
                                      row["erased_at"]),
        "email": "" if row["erased_at"] else row["email"],
        "policy_count": row["policy_count"],
        "created_at": row["created_at"], "added": day(row["created_at"]),
    } for row in rows]


@portal_page
def customer_list(request):
    form = CustomerSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    customers = _search(customers_visible_to(request.user), query)
    # The policy count is a subquery per listed row (evaluated for the page's rows
    # after the index gives them in order), not a GROUP BY over the agency's book.
    paginator = Paginator(
        customers.annotate(policy_count=policy_count_subquery()).order_by(
            "last_name", "first_name", "id").values(
            "id", "first_name", "last_name", "email", "erased_at", "created_at",
            "policy_count"), PAGE_SIZE)
    paginator.count = tallies.count(customers)  # the customers, not their policies' join
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _customer_rows(page.object_list)
    return render_page(request, "customers/customer_list.html",
                       {"form": form, "query": query, "page": page}, partial="results",
                       status=400 if form.errors else 200)


@portal_page(methods=("GET", "HEAD", "POST"), write=True)
def customer_create(request):
    form = CustomerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                customer = services.customer_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Customer {customer} added.")
                return redirect("portal:customer-detail", pk=customer.pk)
        status = 400
    return render_page(request, "customers/customer_form.html", {"form": form}, status=status)
