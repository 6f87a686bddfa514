from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.utils import timezone

from core.pagination import EstimatedCountPaginator
from customers.models import Customer
from customers.selectors import customers_visible_to
from customers.services import CustomerInvalid, phone_normalize


class CustomerAdminForm(forms.ModelForm):
    """Phone numbers as people type them, stored in E.164 (as the API and portal do)."""

    phone = forms.CharField(
        max_length=32, required=False,
        help_text="As you would dial it, e.g. 07700 900123 or +44 7700 900123.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))

    date_of_birth = forms.DateField(required=False, widget=AdminDateWidget)

    class Meta:
        model = Customer
        fields = ("email", "first_name", "last_name", "phone", "date_of_birth", "address",
                  "broker")

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if not value:
            return None
        try:
            return phone_normalize(value)
        except CustomerInvalid as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        return value


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("last_name", "first_name", "email", "broker", "gdpr_consent", "erased_at",
                    "created_at")
    list_filter = ("gdpr_consent", "broker", ("erased_at", admin.EmptyFieldListFilter),
                   "created_at")
    list_select_related = ("broker",)
    search_fields = ("first_name", "last_name", "email")
    autocomplete_fields = ("broker",)
    readonly_fields = ("id", "gdpr_consent", "gdpr_consent_date", "erased_at", "created_by",
                       "created_at", "updated_at")
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    def get_queryset(self, request):
        return customers_visible_to(request.user)
