from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from core.exceptions import DomainError
from core.formatting import counted, money
from core.pagination import EstimatedCountPaginator
from policies import services
from policies.models import Policy
from policies.selectors import policies_visible_to


class PolicyActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (for cancel)",
                             widget=forms.TextInput(attrs={"size": 40}))


MONEY_FIELDS = {"premium_amount": "premium", "coverage_amount": "coverage"}


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    # Status and amounts first after the number: on a narrow screen they stay in view.
    list_display = ("policy_number", "status", "premium", "coverage", "policy_type",
                    "customer", "start_date", "end_date")
    list_filter = ("status", "policy_type", "start_date")
    list_select_related = ("customer",)
    search_fields = ("policy_number", "customer__last_name", "customer__email")
    autocomplete_fields = ("customer",)
    readonly_fields = ("id", "policy_number", "status", "cancelled_at", "cancellation_reason",
                       "created_at", "updated_at")
    date_hierarchy = "start_date"
    action_form = PolicyActionForm
    actions = ["cancel_policies"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    def get_queryset(self, request):
        return policies_visible_to(request.user)

    def get_fields(self, request, obj=None):
        # Amounts shown as money on the (read-only) policy page too.
        return [MONEY_FIELDS.get(name, name) for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *MONEY_FIELDS.values())

    @admin.display(description="Premium", ordering="premium_amount")
    def premium(self, policy):
        return money(policy.premium_amount)

    @admin.display(description="Coverage", ordering="coverage_amount")
    def coverage(self, policy):
        return money(policy.coverage_amount)

    def has_change_permission(self, request, obj=None):
        # Policies change through their lifecycle services, not free edits.
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Cancel selected policies", permissions=["view"])
    def cancel_policies(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Give a reason to cancel.", messages.ERROR)
            return
        done = 0
        for policy in queryset:
            try:
                services.policy_cancel(actor=request.user, policy=policy, reason=reason)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{policy}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"Cancelled {counted(done, 'policy', 'policies')}.",
                              messages.SUCCESS)
