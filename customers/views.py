"""Portal pages for customers: the list with live search, and adding one."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from core.exceptions import DomainError
from customers import services
from customers.forms import CustomerForm, CustomerSearchForm
from customers.selectors import customers_visible_to

PAGE_SIZE = 25


def _search(qs, text: str):
    for term in text.split()[:5]:
        qs = qs.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term)
                       | Q(email__icontains=term))
    return qs


@portal_page
def customer_list(request):
    form = CustomerSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    customers = _search(customers_visible_to(request.user), query)
    customers = customers.annotate(policy_count=Count("policies")).order_by(
        "last_name", "first_name", "id")
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
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
