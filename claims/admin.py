from django.contrib import admin, messages

from claims import services
from claims.models import Claim, ClaimStatus, ClaimStatusChange
from claims.selectors import claims_visible_to
from core.exceptions import DomainError
from core.formatting import counted, money
from core.pagination import EstimatedCountPaginator


class ClaimStatusChangeInline(admin.TabularInline):
    model = ClaimStatusChange
    extra = 0
    fields = ("changed_at", "from_status", "to_status", "actor")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    # Status and amount first after the number: on a narrow screen they stay in view.
    list_display = ("claim_number", "status", "amount", "claim_type", "policy",
                    "incident_date", "reported_date", "processed_date")
    list_filter = ("status", "claim_type", "reported_date")
    list_select_related = ("policy",)
    search_fields = ("claim_number", "policy__policy_number", "policy__customer__last_name")
    autocomplete_fields = ("policy",)
    readonly_fields = ("id", "claim_number", "policy", "claim_type", "claim_amount",
                       "description", "incident_date", "status", "reported_date",
                       "processed_date", "reported_by", "created_at", "updated_at")
    date_hierarchy = "reported_date"
    inlines = [ClaimStatusChangeInline]
    actions = ["start_processing", "approve", "deny"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    def get_queryset(self, request):
        return claims_visible_to(request.user)

    @admin.display(description="Amount", ordering="claim_amount")
    def amount(self, claim):
        return money(claim.claim_amount)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _transition(self, request, queryset, to):
        done = 0
        for claim in queryset:
            try:
                services.claim_transition(claim_id=claim.pk, to=to, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{claim}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{counted(done, 'claim')} now {to}.", messages.SUCCESS)

    @admin.action(description="Start processing selected claims", permissions=["change"])
    def start_processing(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.PROCESSING)

    @admin.action(description="Approve selected claims", permissions=["change"])
    def approve(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.APPROVED)

    @admin.action(description="Deny selected claims", permissions=["change"])
    def deny(self, request, queryset):
        self._transition(request, queryset, ClaimStatus.DENIED)
