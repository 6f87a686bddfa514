"""The audit trail in the admin: read-only, for staff. Nothing can be added,
changed or deleted here (the model refuses it as well)."""

from django.contrib import admin

from compliance import selectors
from compliance.models import AuditEntry
from core.pagination import EstimatedCountPaginator

if admin.site.is_registered(AuditEntry):  # auditlog's own admin, replaced by this one
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "timestamp", "action_label", "resource_type", "object_pk",
                    "actor_ref", "remote_addr", "cid")
    list_filter = ("action", "content_type")
    list_select_related = ("content_type",)
    search_fields = ("=object_pk", "=actor_ref", "=cid")
    date_hierarchy = "timestamp"
    ordering = ("-seq",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    fields = ("seq", "timestamp", "action", "content_type", "object_pk", "object_repr",
              "actor_ref", "remote_addr", "remote_port", "cid", "changes", "additional_data",
              "prev_hash", "entry_hash", "payload_digest", "redacted_at")
    readonly_fields = fields
    actions = None

    @admin.display(description="action", ordering="action")
    def action_label(self, entry):
        return entry.action_name

    @admin.display(description="resource")
    def resource_type(self, entry):
        return selectors.resource_type_of(entry.content_type)

    def get_queryset(self, request):
        return selectors.audit_entries_visible_to(request.user)

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
