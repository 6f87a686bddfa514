from django.contrib import admin

from customers.models import Customer
from customers.selectors import customers_visible_to


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "email", "broker", "gdpr_consent", "erased_at",
                    "created_at")
    list_filter = ("gdpr_consent", "broker", ("erased_at", admin.EmptyFieldListFilter))
    list_select_related = ("broker",)
    search_fields = ("first_name", "last_name", "email")
    autocomplete_fields = ("broker",)
    readonly_fields = ("id", "gdpr_consent", "gdpr_consent_date", "erased_at", "created_by",
                       "created_at", "updated_at")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request):
        return customers_visible_to(request.user)
