import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.utils import timezone

from core.exceptions import DomainError
from core.formatting import counted, money
from core.pagination import EstimatedCountPaginator
from policies import services
from policies.models import Endorsement, Policy, PolicyTerms, Quote, RatingPlan
from policies.selectors import policies_visible_to, quotes_visible_to


class PolicyActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (cancel / reinstate)",
                             widget=forms.TextInput(attrs={"size": 40}))


MONEY_FIELDS = {"premium_amount": "premium", "coverage_amount": "coverage"}


class EndsWithinFilter(admin.SimpleListFilter):
    """The renewal list: live policies ending in the next 30, 60 or 90 days."""

    title = "renewal due (ends within)"
    parameter_name = "ends_within"

    def lookups(self, request, model_admin):
        return [("30", "30 days"), ("60", "60 days"), ("90", "90 days")]

    def queryset(self, request, queryset):
        if self.value() not in ("30", "60", "90"):
            return queryset
        today = timezone.localdate()
        return queryset.filter(status__in=["active", "pending"], end_date__gte=today,
                               end_date__lte=today + datetime.timedelta(days=int(self.value())))


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EndorsementInline(_ReadOnlyInline):
    model = Endorsement
    fields = ("sequence", "effective_date", "reason", "changes", "premium_before",
              "premium_after", "premium_delta", "created_at")
    readonly_fields = fields
    ordering = ("sequence",)


class PolicyTermsInline(_ReadOnlyInline):
    model = PolicyTerms
    verbose_name_plural = "terms history"
    fields = ("version", "effective_from", "coverage_amount", "end_date", "premium_amount",
              "risk")
    readonly_fields = fields
    ordering = ("version",)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    # Status and amounts first after the number: on a narrow screen they stay in view.
    list_display = ("policy_number", "status", "premium", "coverage", "policy_type",
                    "customer", "start_date", "end_date", "version", "renewal_quoted")
    list_filter = (EndsWithinFilter, "status", "policy_type", "start_date")
    list_select_related = ("customer",)
    search_fields = ("policy_number", "customer__last_name", "customer__email")
    autocomplete_fields = ("customer",)
    readonly_fields = ("id", "policy_number", "status", "cancelled_at", "cancellation_reason",
                       "cancellation_effective_date", "refund_amount", "reinstated_at",
                       "reinstatement_reason", "quote", "renewal_of", "rating_plan", "version",
                       "risk", "created_at", "updated_at")
    inlines = (EndorsementInline, PolicyTermsInline)
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    action_form = PolicyActionForm
    actions = ["cancel_policies", "reinstate_policies"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    def get_queryset(self, request):
        return policies_visible_to(request.user)

    @admin.display(boolean=True, description="renewal quoted")
    def renewal_quoted(self, policy):
        if policy.rating_plan_id is None:
            return None
        return policy.pk in self._renewal_quoted

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        ids = [p.pk for p in changelist.result_list]
        self._renewal_quoted = set(Quote.objects.filter(renewal_of__in=ids)
                                   .values_list("renewal_of", flat=True))
        return changelist

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

    @admin.action(description="Reinstate selected policies", permissions=["view"])
    def reinstate_policies(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Give a reason to reinstate.", messages.ERROR)
            return
        done = 0
        for policy in queryset:
            try:
                services.policy_reinstate(actor=request.user, policy=policy, reason=reason)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{policy}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"Reinstated {counted(done, 'policy', 'policies')}.",
                              messages.SUCCESS)


@admin.register(RatingPlan)
class RatingPlanAdmin(admin.ModelAdmin):
    """Plans are data staff edit; one that has rated a quote is shown read-only
    and changed by making a new version ("Make a new version" action)."""

    list_display = ("policy_type", "version", "effective_from", "base_rate", "minimum_premium",
                    "in_use", "created_at")
    list_filter = ("policy_type",)
    ordering = ("policy_type", "-version")
    actions = ["new_version"]
    fields = ("policy_type", "version", "effective_from", "base_rate", "minimum_premium",
              "factors", "fees", "taxes", "appetite", "notes")

    def get_queryset(self, request):
        # Whether each plan is in use, in the page's own query (not two per row).
        return super().get_queryset(request).annotate(
            used=Exists(Quote.objects.filter(rating_plan=OuterRef("pk")))
            | Exists(Policy.objects.filter(rating_plan=OuterRef("pk"))))

    @admin.display(boolean=True, description="used")
    def in_use(self, plan):
        return plan.used

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_used:
            return self.fields
        return ("version",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return obj is not None and not obj.is_used and super().has_delete_permission(request,
                                                                                      obj)

    def save_model(self, request, obj, form, change):
        if not change:
            latest = RatingPlan.objects.filter(policy_type=obj.policy_type).order_by(
                "-version").first()
            obj.version = obj.version or (latest.version + 1 if latest else 1)
        super().save_model(request, obj, form, change)

    def get_fields(self, request, obj=None):
        if obj is None:
            return tuple(f for f in self.fields if f != "version")
        return self.fields

    @admin.action(description="Make a new version (copy for editing)")
    def new_version(self, request, queryset):
        made = []
        for plan in queryset:
            try:
                made.append(services.rating_plan_new_version(actor=request.user, plan=plan))
            except DomainError as exc:
                self.message_user(request, f"{plan}: {exc.message}", messages.ERROR)
        if len(made) == 1:
            self.message_user(request, f"Made {made[0]}: edit it before it takes effect.",
                              messages.SUCCESS)
            return redirect("admin:policies_ratingplan_change", made[0].pk)
        self.message_user(request, f"Made {len(made)} new versions.", messages.SUCCESS)
        return None


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ("quote_number", "customer", "policy_type", "status", "premium_amount",
                    "coverage_amount", "start_date", "valid_until", "renewal_of")
    list_filter = ("status", "policy_type", ("renewal_of", admin.EmptyFieldListFilter),
                   "created_at")
    list_select_related = ("customer", "renewal_of")
    search_fields = ("quote_number", "customer__last_name", "customer__email")
    readonly_fields = ("id", "quote_number", "agency", "customer", "policy_type",
                       "coverage_amount", "start_date", "end_date", "risk", "status",
                       "premium_amount", "breakdown", "decline_reasons", "rating_plan",
                       "valid_until", "renewal_of", "created_by", "bound_at", "created_at",
                       "updated_at")
    fields = readonly_fields
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        # The selector already selects related rows, so list_select_related would be
        # skipped by the changelist: the renewed policy is named here.
        return quotes_visible_to(request.user).select_related("renewal_of")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
