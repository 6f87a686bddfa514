"""Documents in the admin: an inline on the claim, and a read-only list.

Claims do not know about documents, so the claim admin is extended here: the
registered ClaimAdmin is replaced by a subclass that adds the documents inline.
Every download link goes through `documents_visible_to`, as the API does.
"""

from django.contrib import admin
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html

from claims.admin import ClaimAdmin
from claims.models import Claim
from core.pagination import EstimatedCountPaginator
from documents import content, services
from documents.downloads import document_response
from documents.models import Document
from documents.selectors import document_get, documents_visible_to


def _download_link(doc: Document) -> str:
    if not doc or not doc.pk:
        return "-"
    url = reverse("admin:documents_document_download", args=[doc.pk])
    return format_html('<a href="{}">Download</a>', url)


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ("filename", "document_type", "mime_type", "human_size", "uploaded_by",
              "uploaded_at", "download")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return documents_visible_to(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Size")
    def human_size(self, doc):
        return filesizeformat(doc.size)

    @admin.display(description="Download")
    def download(self, doc):
        return _download_link(doc)


class ClaimWithDocumentsAdmin(ClaimAdmin):
    inlines = (*ClaimAdmin.inlines, DocumentInline)


if admin.site.is_registered(Claim):
    admin.site.unregister(Claim)
admin.site.register(Claim, ClaimWithDocumentsAdmin)


class MimeTypeFilter(admin.SimpleListFilter):
    """The types an upload may have (documents.content), not a DISTINCT over every
    document, which a plain "mime_type" filter would read on each page."""

    title = "MIME type"
    parameter_name = "mime_type"

    def lookups(self, request, model_admin):
        return [(mime, mime) for mime in sorted(content.ALLOWED)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(mime_type=self.value())
        return queryset


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("filename", "claim", "document_type", "mime_type", "human_size",
                    "uploaded_by", "uploaded_at", "download")
    list_filter = ("document_type", MimeTypeFilter, "uploaded_at")
    list_select_related = ("claim", "uploaded_by")
    search_fields = ("filename", "claim__claim_number", "sha256")
    fields = ("id", "claim", "filename", "document_type", "mime_type", "human_size", "size",
              "sha256", "uploaded_by", "uploaded_at", "download")
    readonly_fields = fields
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page

    def get_queryset(self, request):
        return documents_visible_to(request.user).select_related("claim")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Size", ordering="size")
    def human_size(self, doc):
        return filesizeformat(doc.size)

    @admin.display(description="Download")
    def download(self, doc):
        return _download_link(doc)

    # Deleting goes through the service, so the stored bytes go too.
    def delete_model(self, request, obj):
        services.document_delete(actor=request.user, document=obj)

    def delete_queryset(self, request, queryset):
        for doc in queryset:
            services.document_delete(actor=request.user, document=doc)

    def get_urls(self):
        return [
            path("<uuid:pk>/download/", self.admin_site.admin_view(self.download_view),
                 name="documents_document_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        if not self.has_view_permission(request):
            raise Http404("Document not found.")
        try:
            doc = document_get(user=request.user, pk=pk)
        except Document.DoesNotExist:
            raise Http404("Document not found.") from None
        return document_response(doc, request=request, user=request.user)
