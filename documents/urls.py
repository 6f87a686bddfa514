from django.urls import re_path

from documents.api import ClaimDocumentsView, DocumentDetailView, DocumentDownloadView

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Every path answers with and without a trailing slash.
urlpatterns = [
    re_path(rf"^claims/(?P<pk>{_UUID})/documents/?$", ClaimDocumentsView.as_view(),
            name="claim-documents"),
    re_path(rf"^documents/(?P<pk>{_UUID})/download/?$", DocumentDownloadView.as_view(),
            name="document-download"),
    re_path(rf"^documents/(?P<pk>{_UUID})/?$", DocumentDetailView.as_view(),
            name="document-detail"),
]
