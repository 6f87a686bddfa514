"""The audit trail in the admin: read-only, for staff. Nothing can be added,
changed or deleted here (the model refuses it as well)."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from compliance import selectors
from compliance.models import AuditEntry
from core.pagination import EstimatedCountPaginator

if admin.site.is_registered(AuditEntry):  # auditlog's own admin, replaced by this one
    admin.site.unregister(AuditEntry)


class ResourceFilter(admin.SimpleListFilter):
    """The resource types of the API (`?resource_type=`), not every table's name."""

    title = "resource"
    parameter_name = "resource"

    def lookups(self, request, model_admin):
        return [(key, key) for key in selectors.RESOURCE_MODELS]

    def queryset(self, request, queryset):
        if self.value() in selectors.RESOURCE_MODELS:
            return queryset.filter(content_type=selectors.content_type_for(self.value()))
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "timestamp", "action_label", "resource_type", "object_link",
                    "actor_link", "remote_addr")
    list_filter = ("action", ResourceFilter, "timestamp")
    list_select_related = ("content_type", "actor")

    class Media:
        css = {"all": ["css/admin-workspace.css"]}
    # Exact matches, so the indexes on each answer them (`=` would be iexact).
    search_fields = ("object_pk__exact", "actor_ref__exact", "cid__exact")
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    ordering = ("-seq",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    fields = ("seq", "timestamp", "action", "content_type", "object_link", "object_pk",
              "object_repr", "actor_link", "actor_ref", "remote_addr", "remote_port", "cid",
              "changes", "additional_data",
              "prev_hash", "entry_hash", "payload_digest", "redacted_at")
    readonly_fields = fields
    actions = None

    @admin.display(description="action", ordering="action")
    def action_label(self, entry):
        return entry.action_name

    @admin.display(description="object")
    def object_link(self, entry):
        """The object by name, linked to its admin page (a claim's note, reserve change
        or payment links to its claim)."""
        ct = entry.content_type
        label = entry.object_repr or entry.object_pk
        target = (ct.app_label, ct.model, entry.object_pk)
        if ct.app_label == "claims" and ct.model in ("claimnote", "reservechange",
                                                     "claimpayment"):
            claim = (entry.changes or {}).get("claim") if isinstance(entry.changes, dict) \
                else None
            if isinstance(claim, list | tuple) and claim and claim[-1] not in (None, "None"):
                target = ("claims", "claim", claim[-1])
                label = f"{label} on claim"
        try:
            url = reverse(f"admin:{target[0]}_{target[1]}_change", args=[target[2]])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="actor")
    def actor_link(self, entry):
        if entry.actor_id and entry.actor is not None:
            name = entry.actor.display_name
            return format_html('<a href="{}">{}</a>',
                               reverse("admin:accounts_user_change", args=[entry.actor_id]),
                               name)
        return "system" if not entry.actor_ref else f"user {entry.actor_ref[:8]}"

    @admin.display(description="resource")
    def resource_type(self, entry):
        return selectors.resource_type_of(entry.content_type)

    def get_queryset(self, request):
        # The selector already selects the content type, so list_select_related would
        # be skipped by the changelist: the actor is joined here (not one query a row).
        return selectors.audit_entries_visible_to(request.user).select_related("actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_staff_role)

    def has_module_permission(self, request):
        return self.has_view_permission(request)
